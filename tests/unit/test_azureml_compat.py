"""The ``azureml.core`` compatibility layer: an unchanged v1 step script logs to the step's MLflow run.

Real parts: the runtime runs the script as a subprocess; MLflow is a real SQLite store.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from airflow_ml_provider.runtime import InputSpec, OutputSpec, ScriptFailedError, StepSpec, run_step
from airflow_ml_provider.runtime.bootstrap import AZUREML_COMPAT_VARIABLE
from airflow_ml_provider.runtime.placeholders import INPUT_DATASETS_VARIABLE

V1_SCRIPT = """
import argparse, os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from azureml.core import Run
from azureml.core.run import Run as SameRun

parser = argparse.ArgumentParser()
parser.add_argument("--output")
args = parser.parse_args()

run = Run.get_context()
assert SameRun.get_context() is run
table = run.input_datasets["taxi"].to_pandas_dataframe()
files = run.input_datasets["raw_files"]
run.log("rows", len(table))
run.log("rows", len(table) + 1)
run.log("model", "ridge")
run.log_list("losses", [0.5, 0.25])
run.log_row("by_fold", fold=1, auc=0.75)
run.log_row("by_fold", fold=2, auc=0.8)
run.log_table("coefficients", {"feature": ["a", "b"], "weight": [0.1, 0.2]})
plt.plot([1, 2], [3, 4])
run.log_image("curve", plot=plt)
run.tag("stage", "cleaned")
run.parent.log("pipeline_rows", len(table))
with open(os.path.join(args.output, "summary.txt"), "w") as f:
    f.write(f"{run.id} {run.experiment.name} {sorted(os.listdir(files))}")
run.upload_file("reports/summary.txt", os.path.join(args.output, "summary.txt"))
run.complete()
"""


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, MlflowClient]:
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri)
    client.create_experiment("nyc_taxi", artifact_location=(folder / "artifacts").as_uri())
    return uri, client


def _step(tmp_path: Path, script: str, environment: dict[str, str]) -> StepSpec:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "step.py").write_text(script)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "a.txt").write_text("a")
    (tmp_path / "data" / "green.csv").write_text("fare;distance\n10;2\n20;4\n30;5\n")
    return StepSpec(
        step="clean",
        script="step.py",
        source_directory=str(tmp_path / "code"),
        arguments=[{"kind": "literal", "value": "--output"}, {"kind": "data", "value": "cleaned"}],
        inputs=[
            InputSpec("green", (tmp_path / "data" / "green.csv").as_uri(), "download"),
            InputSpec("raw", (tmp_path / "data" / "raw").as_uri(), "mount"),
        ],
        outputs=[OutputSpec("cleaned", (tmp_path / "published" / "cleaned").as_uri())],
        work_directory=str(tmp_path / "work"),
        python=sys.executable,
        environment={
            INPUT_DATASETS_VARIABLE: json.dumps(
                {
                    "taxi": {
                        "data": "green",
                        "format": {"kind": "delimited", "separator": ";", "header": True},
                    },
                    "raw_files": {"data": "raw", "format": None},
                }
            ),
            **environment,
        },
    )


def test_an_unchanged_v1_script_logs_to_the_steps_run(
    tmp_path: Path, tracking: tuple[str, MlflowClient]
) -> None:
    uri, client = tracking
    experiment = client.get_experiment_by_name("nyc_taxi").experiment_id
    parent = client.create_run(experiment).info.run_id
    child = client.create_run(experiment, tags={"mlflow.parentRunId": parent}).info.run_id
    spec = _step(
        tmp_path,
        V1_SCRIPT,
        {AZUREML_COMPAT_VARIABLE: "1", "MLFLOW_TRACKING_URI": uri, "MLFLOW_RUN_ID": child},
    )

    run_step(spec, info=lambda line: None, warning=lambda line: None)

    logged = client.get_run(child).data
    assert logged.metrics["rows"] == 4.0  # the last value; the history keeps both
    assert [m.value for m in client.get_metric_history(child, "rows")] == [3.0, 4.0]
    assert [m.value for m in client.get_metric_history(child, "losses")] == [0.5, 0.25]
    assert [m.value for m in client.get_metric_history(child, "by_fold.auc")] == [0.75, 0.8]
    assert [m.value for m in client.get_metric_history(child, "coefficients.weight")] == [0.1, 0.2]
    assert (logged.tags["model"], logged.tags["stage"]) == ("ridge", "cleaned")
    assert client.get_run(parent).data.metrics == {"pipeline_rows": 3.0}
    artifacts = {
        item.path
        for folder in ("images", "tables", "reports")
        for item in client.list_artifacts(child, folder)
    }
    assert artifacts == {
        "images/curve.png",
        "tables/by_fold.json",
        "tables/coefficients.json",
        "reports/summary.txt",
    }
    summary = (tmp_path / "published" / "cleaned" / "summary.txt").read_text()
    assert summary == f"{child} nyc_taxi ['a.txt']"


def test_without_the_opt_in_the_script_cannot_import_azureml(tmp_path: Path) -> None:
    spec = _step(tmp_path, "from azureml.core import Run\n", {})

    with pytest.raises(ScriptFailedError) as failed:
        run_step(spec, info=lambda line: None, warning=lambda line: None)

    assert "No module named 'azureml'" in str(failed.value)


def test_an_installed_azureml_is_never_shadowed(tmp_path: Path) -> None:
    real = tmp_path / "site" / "azureml" / "core"
    real.mkdir(parents=True)
    (real.parent / "__init__.py").write_text("")
    (real / "__init__.py").write_text("INSTALLED = True\n")
    script = (
        "import os, azureml.core\n"
        "target = os.path.join(os.environ['AZUREML_DATAREFERENCE_cleaned'], 'which')\n"
        "open(target, 'w').write(str(getattr(azureml.core, 'INSTALLED', False)))\n"
    )
    spec = dataclasses.replace(
        _step(tmp_path, script, {AZUREML_COMPAT_VARIABLE: "1"}), python_path=[str(tmp_path / "site")]
    )

    run_step(spec, info=lambda line: None, warning=lambda line: None)

    assert (tmp_path / "published" / "cleaned" / "which").read_text() == "True"


def test_offline_run_says_what_it_would_log(tmp_path: Path) -> None:
    script = (
        "import os\nfrom azureml.core import Run\nrun = Run.get_context()\nrun.log('acc', 0.5)\n"
        "open(os.path.join(os.environ['AZUREML_DATAREFERENCE_cleaned'], 'id'), 'w').write(str(run.id))\n"
    )
    environment = {AZUREML_COMPAT_VARIABLE: "1"}
    stderr: list[str] = []
    spec = _step(tmp_path, script, environment)
    os.environ.pop("MLFLOW_RUN_ID", None)

    run_step(spec, info=lambda line: None, warning=stderr.append)

    assert (tmp_path / "published" / "cleaned" / "id").read_text() == "None"
    assert "Attempted to log acc: 0.5 (offline run, not logged)" in stderr
