"""The ``docker`` kind against a real Docker engine (dockerd with vfs, images built locally).

A step runs in a container built from a local image, reads its staged input (bind-mounted),
and writes an output that a local step consumes; a failing container fails its task with the
container's stderr; a rebuilt image under the same tag re-runs the step; a script in a
container logs a metric to a real MLflow server with plain ``mlflow`` calls; the example DAG
``compute_targets`` runs the same step on ``local``, ``venv`` and ``docker``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from servers import start_server, stop

from airflow_ml_provider.dag_runs import run_pipeline
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
        "conn_type": "mlcomputedocker",
        "extra": {"image": runtime_image, "docker_url": docker_url, "memory": "512m",
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


TRACKED_DAG_FILE = """
from airflow.sdk import DAG
from airflow_ml_provider import DataReference, PipelineData, PythonScriptStep

words = DataReference(datastore="default", path_on_datastore="samples/20news.txt", name="words")
measured, report = PipelineData("measured"), PipelineData("report")
with DAG("docker_tracked", schedule=None):
    PythonScriptStep(name="measure", script_name="measure.py", source_directory="docker_tracked_steps",
                     arguments=["--words", words, "--output", measured],
                     inputs=[words], outputs=[measured], compute_target="ml_docker_tracked")
    PythonScriptStep(name="report", script_name="report.py", source_directory="docker_tracked_steps",
                     arguments=["--counted", measured, "--output", report],
                     inputs=[measured], outputs=[report])
"""

# Written as for any compute target: mlflow finds the step's run in its environment.
MEASURE = """
import argparse, json, os, sys
import mlflow
parser = argparse.ArgumentParser()
parser.add_argument("--words"); parser.add_argument("--output")
args = parser.parse_args()
words = open(args.words).read().split()
mlflow.log_metric("words", len(words))
mlflow.log_metric("distinct_words", len(set(words)))
os.makedirs(args.output, exist_ok=True)
json.dump({"words": len(words), "python": sys.executable, "mlflow": mlflow.__version__},
          open(os.path.join(args.output, "count.json"), "w"))
"""


@pytest.fixture
def tracking_server(tmp_path, monkeypatch) -> Iterator[str]:
    uri, server = start_server(tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps({"conn_type": "mltracking", "host": uri}))
    yield uri
    stop(server)


def test_script_in_container_logs_metrics_to_the_tracking_server(
    airflow_db, dags_folder, docker_url, mlflow_image, tracking_server, monkeypatch, capfd
):
    # No network_mode: a step tracked on a server gets the worker's network.
    connection = {"conn_type": "mlcomputedocker", "extra": {"image": mlflow_image,
                                                         "docker_url": docker_url}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_ML_DOCKER_TRACKED", json.dumps(connection))
    steps_folder = dags_folder / "docker_tracked_steps"
    steps_folder.mkdir(exist_ok=True)
    (steps_folder / "measure.py").write_text(MEASURE)
    (steps_folder / "report.py").write_text(REPORT)
    (dags_folder / "docker_tracked.py").write_text(TRACKED_DAG_FILE)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("docker_tracked_steps/\n")

    dag_run, steps = run_pipeline("docker_tracked", dag_file=str(dags_folder / "docker_tracked.py"))

    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    report_folder = local_path(steps[1].outputs["report"]["uri"])
    assert report_folder is not None
    report = json.loads((report_folder / "report.json").read_text())
    assert report["python"].startswith("/opt/python/bin/python")  # logged from the container
    words = local_path_of_sample().read_text().split()
    client = MlflowClient(tracking_server)
    experiment = client.get_experiment_by_name("docker_tracked")
    runs = client.search_runs([experiment.experiment_id])
    children = {r.data.tags["step"]: r for r in runs if r.data.tags.get("ml_level") == "step"}
    (parent,) = [r for r in runs if r.data.tags.get("ml_level") == "pipeline"]
    measure = children["measure"]
    assert measure.data.metrics == {"words": len(words), "distinct_words": len(set(words))}
    assert measure.data.tags["compute_target"] == "ml_docker_tracked"
    assert measure.info.status == "FINISHED"
    assert parent.data.metrics["measure.words"] == len(words)
    assert parent.info.status == "FINISHED"


def test_example_runs_the_same_step_on_local_venv_and_docker(
    airflow_db, dags_folder, docker_url, runtime_image, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ML_VENV",
        json.dumps({"conn_type": "mlcomputevenv", "extra": {"envs_root": str(tmp_path / "envs")}}),
    )
    monkeypatch.setenv("AIRFLOW_CONN_ML_DOCKER", json.dumps(
        {"conn_type": "mlcomputedocker", "extra": {"image": runtime_image,
                                              "docker_url": docker_url}}))  # fmt: skip

    dag_run, steps = run_pipeline("compute_targets", dag_file=str(dags_folder / "compute_targets.py"))

    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    assert {step.name: step.status for step in steps} == {
        "summarize_local": "ran", "summarize_ml_venv": "ran", "summarize_ml_docker": "ran", "compare": "ran",
    }  # fmt: skip
    summaries = {}
    for step in steps[:3]:
        folder = local_path(next(iter(step.outputs.values()))["uri"])
        assert folder is not None
        summaries[step.name] = json.loads((folder / "summary.json").read_text())
    words = len(local_path_of_sample().read_text().split())
    assert {summary["words"] for summary in summaries.values()} == {words}
    pythons = {name: summary["python"] for name, summary in summaries.items()}
    assert pythons["summarize_ml_docker"].startswith("/opt/python/bin/python")
    assert pythons["summarize_ml_venv"].startswith(str(tmp_path / "envs"))
    assert len(set(pythons.values())) == 3  # three interpreters, one script
    # Only the venv has inflect (from the step's requirements): it spells the count out.
    assert re.fullmatch(r"[a-z ,-]+", summaries["summarize_ml_venv"]["spelled"]), summaries
    spelled = {name: summary["spelled"] for name, summary in summaries.items()}
    assert spelled["summarize_local"] == spelled["summarize_ml_docker"] == str(words)


def local_path_of_sample() -> Path:
    from airflow_ml_provider.hooks.datastore import DatastoreHook

    path = local_path(DatastoreHook("default").resolve().uri("samples/20news.txt"))
    assert path is not None
    return path
