"""The ten Azure ML v1 sample pipelines ported in ``dags/azure_v1``, each run twice for real.

Their step scripts are Azure ML v1 scripts (``from azureml.core import Run``), served by the
compatibility layer and logging to MLflow. The second run of each pipeline reuses every
step. The data is the small data shipped in ``dags/azure_v1/data``, put on the default
datastore under ``azure_v1/``; ``cpu-cluster`` is a compute target of kind ``local``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from airflow_ml_provider.dag_runs import StepSummary, run_pipeline
from airflow_ml_provider.datastore import Datastore
from airflow_ml_provider.hooks.tracking_config import embedded
from airflow_ml_provider.runtime.staging import local_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def samples(airflow_db: Path) -> Path:
    Datastore().upload(REPO / "dags" / "azure_v1" / "data", "azure_v1", show_progress=False)
    os.environ["AIRFLOW_CONN_CPU-CLUSTER"] = json.dumps(
        {"conn_type": "ml_compute", "extra": {"kind": "local"}}
    )
    return Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / "azure_v1"


def _output(steps: list[StepSummary], name: str) -> Path:
    for step in steps:
        if name in step.outputs:
            path = local_path(step.outputs[name]["uri"])
            assert path is not None
            return path
    raise AssertionError(f"no output {name}")


def _step_metrics(dag_id: str, run_id: str) -> dict[str, dict[str, float]]:
    client = MlflowClient(embedded().uri)
    experiment = client.get_experiment_by_name(dag_id)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.ml_level = 'step' and tags.run_id = '{run_id}'"
    )
    return {run.data.tags["step"]: dict(run.data.metrics) for run in runs}


def run_twice(
    samples: Path, file: str, dag_id: str, conf: dict[str, Any] | None = None
) -> tuple[Any, list[StepSummary]]:
    """The first run (every step runs, unless another pipeline computed it), then a second
    run that reuses every step; returns the first."""
    dag_file = str(samples / file)
    first, steps = run_pipeline(dag_id, conf, dag_file=dag_file)
    assert str(first.state) == "success", [(s.name, s.status) for s in steps]
    second, again = run_pipeline(dag_id, conf, dag_file=dag_file)
    assert str(second.state) == "success"
    assert {s.name: s.status for s in again} == {s.name: "reused" for s in steps}
    return first, steps


def _ran(steps: list[StepSummary]) -> dict[str, str]:
    return {s.name: s.status for s in steps}


def check_getting_started(samples: Path) -> None:
    first, steps = run_twice(samples, "getting_started.py", "v1_getting_started")
    assert _ran(steps) == {"hello_world": "ran", "compare_step": "ran", "extract_step": "ran"}
    summary = json.loads((_output(steps, "processed_data1") / "summary.json").read_text())
    assert summary["lines"] > 0
    metrics = _step_metrics("v1_getting_started", first.run_id)
    assert metrics["hello_world"] == {"hello": 1.0}
    assert metrics["compare_step"] == {"lines": float(summary["lines"])}
    assert set(metrics["extract_step"]) == {"top_counts"}
    # The same step objects in a second pipeline, one after another: its first run reuses them all.
    sequence_run, sequence = run_pipeline(
        "v1_getting_started_sequence", dag_file=str(samples / "getting_started.py")
    )
    assert str(sequence_run.state) == "success"
    assert _ran(sequence) == {"hello_world": "reused", "compare_step": "reused", "extract_step": "reused"}


def check_data_dependency(samples: Path) -> None:
    first, steps = run_twice(samples, "data_dependency.py", "v1_data_dependency", {"pipeline_arg": 7})
    assert [s.name for s in steps] == ["train", "extract", "compare"]
    comparison = json.loads((_output(steps, "processed_data3") / "comparison.json").read_text())
    assert comparison["pipeline_param"] == 7 and comparison["lines"] > 0
    client = MlflowClient(embedded().uri)
    experiment = client.get_experiment_by_name("v1_data_dependency")
    (parent,) = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.ml_level = 'pipeline' and tags.run_id = '{first.run_id}'",
    )
    assert parent.data.metrics["compared_lines"] == comparison["lines"]  # run.parent.log(...)


def check_datapath(samples: Path) -> None:
    first, _steps = run_twice(samples, "datapath_and_pipelineparameter.py", "v1_datapath")
    assert _step_metrics("v1_datapath", first.run_id)["train_step"] == {"files": 2.0}
    other = {
        "input_datapath": {"datastore": "default", "path_on_datastore": "azure_v1/datapaths/sample_datapath2"}
    }
    third, again = run_pipeline(
        "v1_datapath", other, dag_file=str(samples / "datapath_and_pipelineparameter.py")
    )
    assert str(third.state) == "success" and _ran(again) == {"train_step": "ran"}
    assert _step_metrics("v1_datapath", third.run_id)["train_step"] == {"files": 3.0}


def check_estimatorstep(samples: Path) -> None:
    first, steps = run_twice(samples, "estimatorstep.py", "v1_estimatorstep")
    assert (_output(steps, "output") / "model.pkl").stat().st_size > 0
    assert _step_metrics("v1_estimatorstep", first.run_id)["Estimator_Train"]["accuracy"] > 0.9


def check_data_transfer(samples: Path) -> None:
    _, steps = run_twice(samples, "data_transfer.py", "v1_data_transfer")
    assert _ran(steps) == {
        "transfer_exports_to_archive": "ran",
        "transfer_stores": "ran",
        "count_stores": "ran",
    }
    archive = local_path(Datastore().resolve().uri("azure_v1/archive/exports"))
    assert archive is not None and sorted(p.name for p in archive.iterdir()) == ["part-1.csv", "part-2.csv"]
    assert (_output(steps, "report") / "stores.txt").read_text() == "2 stores\n"


def check_modulestep(samples: Path) -> None:
    _first, steps = run_twice(samples, "modulestep.py", "v1_modulestep")
    assert (_output(steps, "first_sum") / "sum.txt").read_text() == "8"
    assert (_output(steps, "second_sum") / "sum.txt").read_text() == "13"


def check_published_pipeline(samples: Path) -> None:
    _, steps = run_twice(samples, "publish_and_rest.py", "v1_published_pipeline", {"pipeline_arg": 20})
    assert len((_output(steps, "processed") / "head.txt").read_text().splitlines()) == 20


def check_scheduled_pipeline(samples: Path) -> None:
    _first, steps = run_twice(samples, "schedule.py", "v1_scheduled_pipeline")
    assert int((_output(steps, "counts") / "words.txt").read_text()) > 0
    from airflow.utils.cli import get_bagged_dag

    dag = get_bagged_dag(None, "v1_scheduled_pipeline", dagfile_path=str(samples / "schedule.py"))
    assert dag.timetable.delta == timedelta(minutes=15)  # ScheduleRecurrence(frequency="Minute", interval=15)
    assert dag.start_date == datetime(2026, 1, 1, tzinfo=UTC)


def check_parallel_run(samples: Path) -> None:
    _, steps = run_twice(samples, "parallel_run.py", "v1_parallel_run")
    lines = (_output(steps, "inferences") / "parallel_run_step.txt").read_text().splitlines()
    assert len(lines) == 30
    assert sorted(line.split(":")[0] for line in lines) == [f"digit_{n:02d}.csv" for n in range(30)]
    assert sum(line.split(": ")[1].isdigit() for line in lines) == 30


def check_nyc_taxi(samples: Path) -> None:
    first, steps = run_twice(samples, "nyc_taxi.py", "v1_nyc_taxi")
    assert [s.name for s in steps][-1] == "train" and len(steps) == 8
    metrics = _step_metrics("v1_nyc_taxi", first.run_id)
    assert metrics["cleanse_green"]["rows"] == 154 and metrics["cleanse_yellow"]["rows"] == 154
    assert metrics["merge"]["rows"] == 308
    assert metrics["train"]["mean_absolute_error"] < 5
    assert (_output(steps, "model") / "model.pkl").stat().st_size > 0


SAMPLES: dict[str, Callable[[Path], None]] = {
    "getting_started": check_getting_started,
    "data_dependency": check_data_dependency,
    "datapath_and_pipelineparameter": check_datapath,
    "estimatorstep": check_estimatorstep,
    "data_transfer": check_data_transfer,
    "modulestep": check_modulestep,
    "publish_and_rest": check_published_pipeline,
    "schedule": check_scheduled_pipeline,
    "parallel_run": check_parallel_run,
    "nyc_taxi": check_nyc_taxi,
}


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_v1_sample_runs_with_its_scripts_unchanged_and_is_reused_the_second_time(
    samples: Path, sample: str
) -> None:
    SAMPLES[sample](samples)
