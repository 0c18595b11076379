"""The ``docker`` kind against a real Docker engine (dockerd with vfs, images built locally).

A step runs in a container built from a local image, reads its staged input (bind-mounted),
and writes an output that a local step consumes; a failing container fails its task with the
container's stderr; a rebuilt image under the same tag re-runs the step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_ml_provider.runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path

pytestmark = pytest.mark.integration

DAG_FILE = """
from airflow.sdk import DAG
from airflow_ml_provider import DataReference, PipelineData, PythonScriptStep

words = DataReference(datastore="default", path_on_datastore="samples/20news.txt", name="words")
counted, report = PipelineData("counted"), PipelineData("report")
with DAG("{dag_id}", schedule=None):
    PythonScriptStep(name="count", script_name="count.py", source_directory="{steps}",
                     arguments=["--words", words, "--output", counted, "--exit", "{exit_code}"],
                     inputs=[words], outputs=[counted], compute_target="ml_docker_test")
    PythonScriptStep(name="report", script_name="report.py", source_directory="{steps}",
                     arguments=["--counted", counted, "--output", report],
                     inputs=[counted], outputs=[report])
"""

COUNT = """
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--words"); parser.add_argument("--output"); parser.add_argument("--exit", type=int)
args = parser.parse_args()
words = open(args.words).read().split()
print(f"counted {len(words)} words in a container")
if args.exit:
    print("RuntimeError: the GPU ran away", file=sys.stderr)
    sys.exit(args.exit)
release = open("/etc/os-release").read().split("PRETTY_NAME=")[1].splitlines()[0]
os.makedirs(args.output, exist_ok=True)
json.dump({"words": len(words), "python": sys.executable, "os": release},
          open(os.path.join(args.output, "count.json"), "w"))
"""

REPORT = """
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--counted"); parser.add_argument("--output")
args = parser.parse_args()
count = json.load(open(os.path.join(args.counted, "count.json")))
os.makedirs(args.output, exist_ok=True)
json.dump({**count, "reported_by": sys.executable}, open(os.path.join(args.output, "report.json"), "w"))
"""


@pytest.fixture
def docker_target(monkeypatch: pytest.MonkeyPatch, docker_url: str, runtime_image: str) -> str:
    connection = {
        "conn_type": "ml_compute",
        "extra": {"kind": "docker", "image": runtime_image, "docker_url": docker_url, "memory": "512m",
                  "cpus": "1", "network_mode": "none"},
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_ML_DOCKER_TEST", json.dumps(connection))
    return runtime_image


def _write_pipeline(dags_folder: Path, dag_id: str, exit_code: int = 0) -> None:
    steps = dags_folder / f"{dag_id}_steps"
    steps.mkdir(exist_ok=True)
    (steps / "count.py").write_text(COUNT)
    (steps / "report.py").write_text(REPORT)
    (dags_folder / f"{dag_id}.py").write_text(
        DAG_FILE.format(dag_id=dag_id, steps=steps.name, exit_code=exit_code)
    )
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write(f"{steps.name}/\n")


def _statuses(steps: list) -> dict[str, str]:
    return {step.name: step.status for step in steps}


def test_step_in_container_feeds_local_step_and_image_change_reruns(
    airflow_db, dags_folder, docker_target, image_builder, capfd
):
    _write_pipeline(dags_folder, "docker_pipeline")
    dag_file = str(dags_folder / "docker_pipeline.py")

    dag_run, steps = run_pipeline("docker_pipeline", dag_file=dag_file)
    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    assert _statuses(steps) == {"count": "ran", "report": "ran"}
    report_folder = local_path(steps[1].outputs["report"]["uri"])
    assert report_folder is not None
    report = json.loads((report_folder / "report.json").read_text())
    expected_words = len(Path(local_path_of_sample()).read_text().split())
    assert report["words"] == expected_words
    assert report["python"].startswith("/opt/python/bin/python")  # the container's interpreter
    assert "bookworm" in report["os"]
    assert "counted" in log and "in a container" in log  # container stdout in the task log

    _, steps = run_pipeline("docker_pipeline", dag_file=dag_file)
    assert _statuses(steps) == {"count": "reused", "report": "reused"}

    image_builder(extra='RUN echo "v2" > /etc/aml-image-version')
    capfd.readouterr()
    dag_run, steps = run_pipeline("docker_pipeline", dag_file=dag_file)
    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    # Same tag, new image digest: the container step re-runs; its output is the same, so
    # the local step downstream is reused.
    assert _statuses(steps) == {"count": "ran", "report": "reused"}


def test_failing_container_fails_task_with_its_stderr(airflow_db, dags_folder, docker_target, capfd):
    _write_pipeline(dags_folder, "docker_failing", exit_code=4)

    dag_run, steps = run_pipeline("docker_failing", dag_file=str(dags_folder / "docker_failing.py"))

    assert str(dag_run.state) == "failed"
    assert _statuses(steps) == {"count": "failed", "report": "upstream_failed"}
    log = "".join(capfd.readouterr())
    assert "exited with code 1" in log  # the runtime's exit, reporting the script's
    assert "script count.py exited with code 4" in log
    assert "RuntimeError: the GPU ran away" in log


def local_path_of_sample() -> Path:
    from airflow_ml_provider.hooks.datastore import DatastoreHook

    path = local_path(DatastoreHook("default").resolve().uri("samples/20news.txt"))
    assert path is not None
    return path
