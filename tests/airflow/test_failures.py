"""A failing script fails its task with its stderr, publishes nothing, and stops its consumers."""

from __future__ import annotations

import textwrap
from pathlib import Path

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.hooks.datastore import DatastoreHook
from airflow_ml_provider.runtime.staging import local_path

FAILING_DAG = """
from airflow.sdk import DAG
from airflow_ml_provider import PipelineData, PythonScriptStep

half = PipelineData("half")
never = PipelineData("never")
with DAG("failing_pipeline", schedule=None):
    PythonScriptStep(name="breaks", script_name="breaks.py", source_directory="failing_steps",
                     arguments=["--out", half], outputs=[half])
    PythonScriptStep(name="after", script_name="after.py", source_directory="failing_steps",
                     arguments=["--in", half, "--out", never], inputs=[half], outputs=[never])
"""

BREAKS = """
import argparse, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "partial.csv"), "w") as f:
    f.write("a,b\\n1,2\\n")
print("wrote a partial file")
print("loading the model weights", file=sys.stderr)
print("ValueError: column 'price' has 3 missing values", file=sys.stderr)
sys.exit(3)
"""


def _write_failing_pipeline(dags_folder: Path) -> None:
    steps = dags_folder / "failing_steps"
    steps.mkdir(exist_ok=True)
    (steps / "breaks.py").write_text(textwrap.dedent(BREAKS))
    (steps / "after.py").write_text("raise SystemExit('must never run')\n")
    (dags_folder / "failing_pipeline.py").write_text(FAILING_DAG)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("failing_steps/\n")


def test_failing_script_fails_task_with_stderr_and_publishes_nothing(airflow_db, dags_folder, capfd):
    _write_failing_pipeline(dags_folder)

    dag_run, steps = run_pipeline("failing_pipeline")

    assert str(dag_run.state) == "failed"
    assert [(s.name, s.status) for s in steps] == [("breaks", "failed"), ("after", "upstream_failed")]
    assert steps[0].outputs == {}
    log = "".join(capfd.readouterr())
    assert 'step "breaks": script breaks.py exited with code 3' in log
    assert "ValueError: column 'price' has 3 missing values" in log
    assert "wrote a partial file" in log
    base = local_path(DatastoreHook("default").resolve().uri("pipeline-data/failing_pipeline"))
    assert base is not None
    leftovers = [p for p in base.rglob("*") if p.is_file()]
    assert leftovers == [], f"a failed step left files behind: {leftovers}"


def test_provider_is_registered_with_its_connection_types(airflow_db, airflow_cli):
    listed = airflow_cli("providers", "list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "airflow-ml-provider" in listed.stdout
    hooks = airflow_cli("providers", "hooks")
    assert "airflow_ml_provider.hooks.datastore.DatastoreHook" in hooks.stdout
    for hook in ("ComputeTargetHook", "VenvComputeHook", "DockerComputeHook", "KubernetesComputeHook"):
        assert f"airflow_ml_provider.hooks.compute.{hook}" in hooks.stdout
    widgets = airflow_cli("providers", "widgets")
    # The datastore's base URI is its Host field and a compute target's kind is its type: no widgets.
    for field in ("endpoint_url", "ui_url", "queue", "envs_root", "network_mode", "node_selector"):
        assert field in widgets.stdout
