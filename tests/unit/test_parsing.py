"""What parsing a pipeline reads: no connection per step; a compute target's queue is remembered.

Connection lookups are counted by a real secrets backend, configured the way a deployment
configures one (``[secrets] backend``), which Airflow asks before the environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
from airflow.sdk import DAG
from airflow.secrets import BaseSecretsBackend

from airflow_ml_provider import PipelineData, PythonScriptStep, queues
from airflow_ml_provider.pipeline.steps import _defining_file_directory

STEPS = 20


class CountingBackend(BaseSecretsBackend):
    """Knows one compute target, ``gpu_farm``, and records every connection asked for."""

    asked: ClassVar[list[str]] = []
    queue: ClassVar[str] = "gpu"

    def get_conn_value(self, conn_id: str) -> str | None:
        self.asked.append(conn_id)
        if conn_id != "gpu_farm":
            return None
        return json.dumps({"conn_type": "mlcomputelocal", "extra": {"queue": self.queue}})


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> type[CountingBackend]:
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", f"{__name__}.CountingBackend")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))  # its own remembered queues
    CountingBackend.asked.clear()
    CountingBackend.queue = "gpu"
    queues.forget()
    yield CountingBackend
    queues.forget()


def _parse(folder: Path, dag_id: str) -> DAG:
    """What one parse of a DAG file of STEPS steps on the gpu_farm target does."""
    queues.forget()  # each parse runs in a fresh process in the DAG processor
    (folder / "step.py").write_text("print('step')\n")
    with DAG(dag_id, schedule=None) as dag:
        previous = None
        for index in range(STEPS):
            output = PipelineData(f"out_{index}")
            PythonScriptStep(
                "step.py",
                name=f"step_{index}",
                source_directory=str(folder),
                arguments=["--output", output],
                inputs=[previous] if previous is not None else [],
                outputs=[output],
                compute_target="gpu_farm",
            )
            previous = output
    return dag


def _run_queues(dag: DAG) -> set[str]:
    return {task.queue for task in dag.tasks if task.task_id.endswith(".run")}


def test_a_parse_reads_a_targets_connection_once_not_per_step(counted, tmp_path: Path):
    dag = _parse(tmp_path, "queued_once")
    assert counted.asked.count("gpu_farm") == 1
    assert _run_queues(dag) == {"gpu"}


def test_later_parses_read_no_connection(counted, tmp_path: Path):
    _parse(tmp_path, "queued_first")
    counted.asked.clear()
    dag = _parse(tmp_path, "queued_again")
    assert counted.asked == []
    assert _run_queues(dag) == {"gpu"}


def test_a_remembered_queue_expires_and_run_tasks_refresh_it(counted, tmp_path: Path):
    _parse(tmp_path, "queued_before")
    counted.queue = "gpu_large"
    queues.forget()
    later = queues.target_queue("gpu_farm", now=10**12)  # long after the remembered time
    assert later == "gpu_large"
    queues.remember("gpu_farm", "gpu_new")  # what a run task does after resolving its target
    counted.asked.clear()
    assert _run_queues(_parse(tmp_path, "queued_after")) == {"gpu_new"}
    assert counted.asked == []


def test_no_remembering_when_switched_off(counted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__COMPUTE_QUEUE_SECONDS", "0")
    _parse(tmp_path, "queued_live")
    counted.asked.clear()
    _parse(tmp_path, "queued_live_again")
    assert counted.asked.count("gpu_farm") == STEPS
    assert not queues.queues_file().exists()


def test_an_unknown_target_is_not_remembered(counted, tmp_path: Path):
    assert queues.target_queue("not_defined_yet") is None
    queues.forget()
    queues.target_queue("not_defined_yet")
    assert counted.asked.count("not_defined_yet") == 2  # defined later, it is seen at the next parse


def test_the_defining_folder_is_the_dag_files():
    assert _defining_file_directory() == Path(__file__).parent


def test_the_step_description_is_made_when_the_dag_is_serialized(counted, tmp_path: Path):
    """A parse that only runs a task (a worker) does not describe the steps; the serialized DAG,
    which the UI reads, still carries each step's description."""
    from airflow.serialization.serialized_objects import DagSerialization

    from airflow_ml_provider.pipeline.describe import describe_step
    from airflow_ml_provider.plugins.readers import pipeline_steps
    from airflow_ml_provider.rendered import pipeline_of
    from airflow_ml_provider.sensors.reuse import STEP_FIELD

    dag = _parse(tmp_path, "described")
    sensors = [task for task in dag.tasks if task.task_id.endswith(".reuse")]
    assert sensors and all(STEP_FIELD not in vars(sensor) for sensor in sensors)

    serialized = DagSerialization.from_dict(json.loads(json.dumps(DagSerialization.to_dict(dag))))

    graph = pipeline_of(dag)
    described = pipeline_steps(serialized)
    assert [step.description for step in described] == [
        describe_step(graph.steps[f"step_{index}"]) for index in range(STEPS)
    ]
    assert described[1].description["script"] == "step.py"
    assert described[1].description["inputs"][0]["name"] == "out_0"
    assert (described[1].reuse_task, described[1].run_task) == ("step_1.reuse", "step_1.run")
