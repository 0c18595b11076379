"""The authoring model and the runtime need no Airflow: each is checked in a fresh interpreter.

``lint-imports`` checks the import statements; this checks what really gets loaded, including
imports made while a pipeline model is being built.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BUILD_A_PIPELINE_MODEL = """
import sys

from airflow_ml_provider import (
    DataReference, DataTransferStep, Environment, EstimatorStep, Pipeline, PipelineData,
    PipelineParameter, PythonScriptStep,
)

raw = DataReference(datastore="raw_store", path_on_datastore="news/20news.csv", name="raw")
staged, features, model = PipelineData("staged"), PipelineData("features"), PipelineData("model")
ingest = DataTransferStep(name="ingest", source_data_reference=raw, destination_data_reference=staged)
featurize = PythonScriptStep(
    name="featurize", script_name="featurize.py", source_directory="steps",
    arguments=["--input", staged, "--output", features], inputs=[staged], outputs=[features],
)
train = EstimatorStep(
    name="train", entry_script="train.py", source_directory="steps",
    arguments=["--data", features, "--alpha", PipelineParameter("alpha", 0.1), "--model", model],
    inputs=[features], outputs=[model], environment=Environment(python="3.11"),
)
train.run_after(featurize)
pipeline = Pipeline(steps=[ingest, featurize, train])
assert pipeline.validate() == [], pipeline.validate()
assert sorted(pipeline.graph.steps) == ["featurize", "ingest", "train"]
loaded = sorted(name for name in sys.modules if name == "airflow" or name.startswith("airflow."))
assert not loaded, loaded
print("ok")
"""

IMPORT_THE_RUNTIME = """
import sys

import airflow_ml_provider.runtime
import airflow_ml_provider.runtime.__main__

loaded = sorted(name for name in sys.modules if name == "airflow" or name.startswith("airflow."))
assert not loaded, loaded
print("ok")
"""

# A DAG file that imports only Airflow's DAG and the provider's top-level names: the renderer is
# not loaded until the first step is built in the open DAG, and that step is still placed.
BUILD_STEPS_IN_AN_OPEN_DAG = """
import sys

from airflow.sdk import DAG

from airflow_ml_provider import Pipeline, PipelineData, PythonScriptStep

assert "airflow_ml_provider.render" not in sys.modules
features = PipelineData("features")
with DAG("open_dag", schedule=None) as dag:
    featurize = PythonScriptStep(
        name="featurize", script_name="featurize.py", source_directory="steps",
        arguments=["--output", features], outputs=[features],
    )
    train = PythonScriptStep(
        name="train", script_name="train.py", source_directory="steps",
        arguments=["--data", features], inputs=[features],
    )
assert "airflow_ml_provider.render" in sys.modules
run_tasks = sorted(task_id for task_id in dag.task_ids if task_id.endswith(".run"))
assert run_tasks == ["featurize.run", "train.run"], dag.task_ids
# train reads featurize's output: its tasks are wired after featurize's.
upstream = {u for t in dag.task_ids if t.startswith("train.") for u in dag.get_task(t).upstream_task_ids}
assert any(task_id.startswith("featurize.") for task_id in upstream), upstream

# Pipeline.to_dag() reaches the same renderer.
other = Pipeline(steps=[featurize, train], description="two steps").to_dag("to_dag_pipeline")
assert other.description == "two steps"
other_runs = sorted(task_id for task_id in other.task_ids if task_id.endswith(".run"))
assert other_runs == ["featurize.run", "train.run"], other.task_ids
print("ok")
"""


def run_alone(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_building_a_pipeline_model_outside_a_dag_loads_no_airflow(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    for script in ("featurize.py", "train.py"):
        (tmp_path / "steps" / script).write_text("print('hello')\n")
    done = run_alone(BUILD_A_PIPELINE_MODEL, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_importing_the_runtime_loads_no_airflow(tmp_path: Path) -> None:
    done = run_alone(IMPORT_THE_RUNTIME, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_step_built_in_an_open_dag_is_placed_by_the_renderer_it_loads(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    for script in ("featurize.py", "train.py"):
        (tmp_path / "steps" / script).write_text("print('hello')\n")
    done = run_alone(BUILD_STEPS_IN_AN_OPEN_DAG, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
