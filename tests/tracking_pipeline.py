"""A small tracked pipeline for the tracking tests: prepare -> fit (an EstimatorStep)."""

from __future__ import annotations

from pathlib import Path

DAG_TEMPLATE = """
from airflow.sdk import DAG
from airflow_ml_provider import EstimatorStep, PipelineData, PipelineParameter, PythonScriptStep

data, model = PipelineData("data"), PipelineData("model")
with DAG("{dag_id}", schedule=None, default_args={default_args}):
    PythonScriptStep(name="prepare", script_name="prepare.py", source_directory="{dag_id}_steps",
                     arguments=["--out", data, "--fail", "{fail}"], outputs=[data])
    EstimatorStep(name="fit", entry_script="fit.py", source_directory="{dag_id}_steps",
                  arguments=["--data", data, "--model", model],
                  hyperparameters={{"alpha": PipelineParameter("alpha", default_value=0.5)}},
                  inputs=[data], outputs=[model], register_model="{model_name}", model_alias="candidate")
"""

PREPARE = """
import argparse, os, sys
import mlflow
parser = argparse.ArgumentParser()
parser.add_argument("--out"); parser.add_argument("--fail")
args = parser.parse_args()
with mlflow.start_run():
    mlflow.log_metric("rows", 3)
if args.fail == "yes":
    print("the data source refused the query", file=sys.stderr)
    sys.exit(1)
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "rows.csv"), "w") as f:
    f.write("x\\\\n1\\\\n2\\\\n3\\\\n")
"""

FIT = """
import argparse, json, os
import mlflow
parser = argparse.ArgumentParser()
parser.add_argument("--data"); parser.add_argument("--model"); parser.add_argument("--alpha", type=float)
args = parser.parse_args()
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "weights.json"), "w") as f:
    json.dump({"alpha": args.alpha}, f)
mlflow.log_metric("loss", args.alpha * 2)
"""


def write_tracked_pipeline(
    dags_folder: Path,
    dag_id: str,
    *,
    fail: bool = False,
    default_args: str = "{}",
    model_name: str = "tiny-model",
) -> Path:
    steps = dags_folder / f"{dag_id}_steps"
    steps.mkdir(exist_ok=True)
    # Each pipeline gets its own scripts, so that no test reuses another test's results.
    (steps / "prepare.py").write_text(f"# {dag_id}\n{PREPARE}")
    (steps / "fit.py").write_text(f"# {dag_id}\n{FIT}")
    dag_file = dags_folder / f"{dag_id}.py"
    dag_file.write_text(
        DAG_TEMPLATE.format(
            dag_id=dag_id, fail="yes" if fail else "no", default_args=default_args, model_name=model_name
        )
    )
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write(f"{dag_id}_steps/\n")
    return dag_file
