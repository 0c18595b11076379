"""The client's decisions from API records: step status, step order, parameter checks, run conf."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from airflow_ml_provider.client import OutputData, ParameterError, step_status
from airflow_ml_provider.client.pipeline_run import _step_names, _topological
from airflow_ml_provider.client.pipelines import check_parameters, declared_parameters
from airflow_ml_provider.client.records import steps_from_task_instances
from airflow_ml_provider.run_conf import pipeline_run_tags, run_experiment

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reuse", "run", "status"),
    [
        ("success", "success", "ran"),
        ("success", "skipped", "reused"),
        ("failed", None, "failed"),
        ("success", "failed", "failed"),
        ("upstream_failed", "upstream_failed", "upstream_failed"),
        ("up_for_reschedule", None, "waiting"),
        ("deferred", None, "waiting"),
        ("running", None, "running"),
        ("success", "queued", "running"),
        ("success", None, "running"),
        ("skipped", "skipped", "skipped"),
        (None, None, "not started"),
    ],
)
def test_step_status(reuse: str | None, run: str | None, status: str) -> None:
    assert step_status(reuse, run) == status


def test_steps_grouped_and_ordered_by_the_pipeline() -> None:
    instances = [
        {"task_id": "use.reuse", "state": "success", "start_date": "2026-01-01T00:00:10Z",
         "end_date": "2026-01-01T00:00:11Z", "try_number": 1, "map_index": -1},
        {"task_id": "use.run", "state": "skipped", "start_date": None, "end_date": None,
         "try_number": 0, "map_index": -1},
        {"task_id": "make.reuse", "state": "success", "start_date": "2026-01-01T00:00:00Z",
         "end_date": "2026-01-01T00:00:01Z", "try_number": 1, "map_index": -1},
        {"task_id": "make.run", "state": "success", "start_date": "2026-01-01T00:00:02Z",
         "end_date": "2026-01-01T00:00:05Z", "try_number": 2, "map_index": -1},
        {"task_id": "plain_task", "state": "success", "map_index": -1},
    ]  # fmt: skip
    steps = steps_from_task_instances(instances, ["make", "use"])
    assert [(s.name, s.status, s.duration, s.attempts) for s in steps] == [
        ("make", "ran", 5.0, 2),
        ("use", "reused", 1.0, 0),
    ]


def test_step_order_follows_the_task_dependencies() -> None:
    downstream = {
        "b.reuse": ["b.run"],
        "b.run": ["c.reuse"],
        "a.reuse": ["a.run"],
        "a.run": ["b.reuse"],
        "c.reuse": ["c.run"],
        "c.run": [],
    }
    assert _step_names(_topological(downstream)) == ["a", "b", "c"]


DETAILS = {
    "params": {
        "alpha": {"value": 0.1, "schema": {"type": "number"}, "description": "learning rate"},
        "mode": {"value": "fast", "schema": {"type": "string", "enum": ["fast", "slow"]}},
    }
}


def test_unknown_parameters_are_named_with_the_known_ones() -> None:
    with pytest.raises(ParameterError) as raised:
        check_parameters("train", declared_parameters(DETAILS), {"alpah": 0.2})
    assert str(raised.value) == "pipeline \"train\" has no parameter 'alpah'; its parameters: alpha, mode"


def test_values_the_param_schema_refuses_are_refused() -> None:
    declared = declared_parameters(DETAILS)
    check_parameters("train", declared, {"alpha": 2, "mode": "slow"})
    with pytest.raises(ParameterError, match="parameter 'alpha' = 'high' is refused"):
        check_parameters("train", declared, {"alpha": "high"})
    with pytest.raises(ParameterError, match="parameter 'mode' = 'medium' is refused"):
        check_parameters("train", declared, {"mode": "medium"})


def test_run_conf_sets_experiment_and_pipeline_run_tags() -> None:
    conf = {
        "experiment_name": "tuning",
        "tags": {"team": "vision", "ticket": 12},
        "ml_endpoint": {"name": "scoring", "version": 3, "pipeline_digest": "abc"},
    }
    assert run_experiment(conf, "wine") == "tuning"
    assert run_experiment({}, "wine") == "wine"
    assert run_experiment({"experiment_name": " "}, "wine") == "wine"
    assert pipeline_run_tags(conf) == {
        "team": "vision",
        "ticket": "12",
        "endpoint": "scoring",
        "endpoint_version": "3",
        "endpoint_pipeline_digest": "abc",
    }


def test_an_output_reference_is_read_with_its_producer() -> None:
    data = OutputData.from_reference(
        "model",
        {
            "uri": "s3://lake/pipeline-data/wine/r1/train/attempt-1/model",
            "digest": "blake3:00",
            "size": 10,
            "files": 2,
            "produced_by": {"dag_id": "wine", "run_id": "r1", "task_id": "train.run", "try": 1},
        },
    )
    assert (data.produced_by.run_id, data.produced_by.attempt, data.files) == ("r1", 1, 2)


def test_the_client_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_ml_provider.client; "
        "print(any(m.split('.')[0] == 'airflow' for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "False"
