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
