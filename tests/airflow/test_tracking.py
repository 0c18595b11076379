"""MLflow tracking through real Airflow runs on the default (embedded SQLite) store."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient
from tracking_pipeline import write_tracked_pipeline

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.hooks.tracking_config import embedded
from airflow_ml_provider.tracking.step import open_step_tracking


def _client() -> MlflowClient:
    return MlflowClient(embedded().uri)


def _runs(experiment: str, level: str, run_id: str | None = None) -> list:
    client = _client()
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    query = f"tags.ml_level = '{level}'" + (f" and tags.run_id = '{run_id}'" if run_id else "")
    return client.search_runs([found.experiment_id], filter_string=query)


def test_runs_metrics_rollup_reuse_and_registered_model_on_the_default_store(airflow_db, dags_folder):
    dag_file = write_tracked_pipeline(dags_folder, "tracked")

    first, _ = run_pipeline("tracked", dag_file=str(dag_file))
    assert str(first.state) == "success"

    (parent,) = _runs("tracked", "pipeline", first.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["dag_id"] == "tracked"
    assert parent.data.params == {"alpha": "0.5"}  # the pipeline's parameters, as this run had them
    assert parent.data.metrics == {"prepare.rows": 3.0, "fit.loss": 1.0}
    children = {run.data.tags["step"]: run for run in _runs("tracked", "step", first.run_id)}
    assert set(children) == {"prepare", "fit"}
    decisions = {s: StepCacheStore().decisions("tracked", s, first.run_id)[-1] for s in children}
    for step, child in children.items():
        assert child.info.status == "FINISHED"
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["try_number"] == "1"
        assert child.data.tags["compute_target"] == "local"
        assert child.data.tags["fingerprint"] == decisions[step].base_key
    assert children["fit"].data.params["alpha"] == "0.5"
    assert children["fit"].data.params["arguments"] == "--data <data> --model <model> --alpha 0.5"
    assert children["fit"].data.metrics == {"loss": 1.0}
    assert children["prepare"].data.metrics == {"rows": 3.0}

    version = _client().get_model_version_by_alias("tiny-model", "candidate")
    assert version.run_id == children["fit"].info.run_id
    # With the embedded store the run link opens the MLflow UI served by the provider's plugin.
    link = _xcom("tracked", first.run_id, "fit.run", "_link_MlflowRunLink")
    experiment = children["fit"].info.experiment_id
    assert link == f"/ml-pipelines/mlflow/#/experiments/{experiment}/runs/{children['fit'].info.run_id}"

    second, steps = run_pipeline("tracked", dag_file=str(dag_file))
    assert [s.status for s in steps] == ["reused", "reused"]
    # A reused EstimatorStep reports the model version its reused result registered.
    assert steps[1].model_version == str(version.version)
    assert str(_xcom("tracked", second.run_id, "fit.reuse", "model_version")) == str(version.version)
    (parent2,) = _runs("tracked", "pipeline", second.run_id)
    assert parent2.info.status == "FINISHED"
    assert parent2.data.metrics == {"prepare.rows": 3.0, "fit.loss": 1.0}
    reused = {run.data.tags["step"]: run for run in _runs("tracked", "step", second.run_id)}
    for step, child in reused.items():
        assert child.data.tags["reused_from"] == children[step].info.run_id
        assert child.data.metrics == children[step].data.metrics
        assert child.data.tags["mlflow.parentRunId"] == parent2.info.run_id


def _xcom(dag_id: str, run_id: str, task_id: str, key: str) -> object:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).one()
        return XComModel.deserialize_value(row)


def test_a_failing_script_leaves_its_step_run_and_the_pipeline_run_failed(airflow_db, dags_folder):
    dag_file = write_tracked_pipeline(dags_folder, "tracked_failing", fail=True)

    dag_run, _ = run_pipeline("tracked_failing", dag_file=str(dag_file))

    assert str(dag_run.state) == "failed"
    (child,) = _runs("tracked_failing", "step", dag_run.run_id)
    assert child.data.tags["step"] == "prepare"
    assert child.info.status == "FAILED"
    assert child.data.metrics == {"rows": 3.0}  # what the script logged before failing is kept
    (parent,) = _runs("tracked_failing", "pipeline", dag_run.run_id)
    assert parent.info.status == "FAILED"


def _open_step(step: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    tracking = open_step_tracking(
        mode="required",
        experiment_name="parallel_parent",
        dag_id="parallel_parent",
        run_id="manual__parallel",
        step=step,
        tags={"try_number": "1"},
        params={},
        warn=print,
    )
    assert tracking is not None
    results.put(tracking.parent_id)


def test_steps_starting_in_parallel_create_exactly_one_parent_run(airflow_db):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_open_step, args=(f"step{i}", results)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    parents = {results.get(timeout=5) for _ in workers}

    assert len(parents) == 1
    assert len(_runs("parallel_parent", "pipeline", "manual__parallel")) == 1
    assert Path(embedded().uri.removeprefix("sqlite:///")).exists()


TRANSFER_DAG = """
from airflow.sdk import DAG
from airflow_ml_provider import DataReference, DataTransferStep, PipelineData

with DAG("tracked_copy", schedule=None):
    DataTransferStep(name="copy", source=DataReference(path_on_datastore="samples/wine/wine.csv"),
                     destination=PipelineData("copied", is_directory=False))
"""


def test_a_data_transfer_gets_a_run_with_its_bytes_files_and_rate(airflow_db, dags_folder):
    dag_file = dags_folder / "tracked_copy.py"
    dag_file.write_text(TRANSFER_DAG)
    size = (Path(__file__).parents[2] / "dags" / "wine" / "data" / "wine.csv").stat().st_size

    first, _ = run_pipeline("tracked_copy", dag_file=str(dag_file))

    assert str(first.state) == "success"
    (child,) = _runs("tracked_copy", "step", first.run_id)
    assert child.info.status == "FINISHED"
    assert child.data.tags["step"] == "copy"
    assert child.data.params["source"] == "wine_csv (default:samples/wine/wine.csv)"
    assert child.data.metrics["bytes"] == size
    assert child.data.metrics["files"] == 1
    assert child.data.metrics["bytes_per_second"] > 0
    (parent,) = _runs("tracked_copy", "pipeline", first.run_id)
    assert parent.data.metrics["copy.bytes"] == size

    second, steps = run_pipeline("tracked_copy", dag_file=str(dag_file))
    assert [s.status for s in steps] == ["reused"]
    (reused,) = _runs("tracked_copy", "step", second.run_id)
    assert reused.data.tags["reused_from"] == child.info.run_id
    assert reused.data.metrics == child.data.metrics


# A second run in a fresh interpreter, which notes at the end of each task whether MLflow had
# been imported in the process by then (dag.test() runs every task in this one process).
SECOND_RUN = """
import json, sys
from airflow.listeners import hookimpl
from airflow.sdk.listener import get_listener_manager
from airflow_ml_provider.dag_runs import run_pipeline

seen = {}

class MlflowImported:
    @hookimpl
    def on_task_instance_success(self, previous_state, task_instance):
        seen[task_instance.task_id] = "mlflow" in sys.modules

get_listener_manager().add_listener(MlflowImported())
dag_run, steps = run_pipeline(sys.argv[1], dag_file=sys.argv[2])
print("RESULT " + json.dumps({"run_id": dag_run.run_id, "steps": [s.status for s in steps], "seen": seen}))
"""


def test_a_reuse_hit_never_imports_mlflow_and_the_run_end_records_the_reused_runs(airflow_db, dags_folder):
    dag_file = write_tracked_pipeline(dags_folder, "tracked_cheap_hit", model_name="cheap-hit-model")
    first, _ = run_pipeline("tracked_cheap_hit", dag_file=str(dag_file))
    original = {run.data.tags["step"]: run for run in _runs("tracked_cheap_hit", "step", first.run_id)}

    second = subprocess.run(
        [sys.executable, "-c", SECOND_RUN, "tracked_cheap_hit", str(dag_file)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert second.returncode == 0, second.stderr[-3000:]
    result = json.loads(second.stdout.split("RESULT ", 1)[1])
    assert result["steps"] == ["reused", "reused"]
    # Both hits (and the run task skipped after each) ran without importing MLflow.
    assert result["seen"] == {"prepare.reuse": False, "fit.reuse": False}, result["seen"]
    # The DAG run's closing callback wrote the reused steps' runs before dag.test() returned.
    (parent,) = _runs("tracked_cheap_hit", "pipeline", result["run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.params == {"alpha": "0.5"}
    assert parent.data.metrics == {"prepare.rows": 3.0, "fit.loss": 1.0}
    reused = {run.data.tags["step"]: run for run in _runs("tracked_cheap_hit", "step", result["run_id"])}
    assert set(reused) == {"prepare", "fit"}
    for step, child in reused.items():
        assert child.info.status == "FINISHED"
        assert child.data.tags["reused_from"] == original[step].info.run_id
        assert child.data.tags["try_number"] == "1"
        assert child.data.metrics == original[step].data.metrics
    assert reused["fit"].data.params["alpha"] == "0.5"
    # The hit's "MLflow run" link and run id name the run that produced the reused result.
    fit_run = original["fit"].info.run_id
    assert _xcom("tracked_cheap_hit", result["run_id"], "fit.reuse", "mlflow_run_id") == fit_run
    link = _xcom("tracked_cheap_hit", result["run_id"], "fit.reuse", "_link_MlflowRunLink")
    assert link == f"/ml-pipelines/mlflow/#/runs/{fit_run}"
