"""What the plugin reads, inside the API server: serialized DAGs, a run's task instances and
XCom values (as Airflow's public API routes read them), the step cache, and the MLflow store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select

from airflow_ml_provider.handoff import MODEL_VERSION_KEY, OUTPUTS_KEY, RUN_ID_KEY, TRANSFER_STATS_KEY
from airflow_ml_provider.plugins.views import StepRecord, TaskState
from airflow_ml_provider.sensors.reuse import STEP_FIELD

XCOM_KEYS = (OUTPUTS_KEY, RUN_ID_KEY, MODEL_VERSION_KEY, TRANSFER_STATS_KEY)


@dataclass(frozen=True)
class PipelineStep:
    description: dict[str, Any]
    reuse_task: str
    run_task: str


def pipeline_steps(dag: Any) -> list[PipelineStep]:
    """The steps of a serialized DAG, in the order they were defined; [] for a DAG of no steps."""
    steps = []
    for task in dag.tasks:
        described = getattr(task, STEP_FIELD, None)
        if isinstance(described, str):
            steps.append(
                PipelineStep(json.loads(described), task.task_id, task.task_id.rsplit(".", 1)[0] + ".run")
            )
    return _in_data_order(steps, step_upstream(dag, steps))


def _in_data_order(steps: list[PipelineStep], upstream: dict[str, set[str]]) -> list[PipelineStep]:
    """Producers before their consumers; steps that are equally ready by name."""
    by_name = {step.description["name"]: step for step in steps}
    waiting = {name: set(before) & set(by_name) for name, before in upstream.items()}
    ordered: list[PipelineStep] = []
    while waiting:
        ready = sorted(name for name, before in waiting.items() if not before) or sorted(waiting)[:1]
        for name in ready:
            ordered.append(by_name[name])
            del waiting[name]
        for before in waiting.values():
            before.difference_update(ready)
    return ordered


def step_upstream(dag: Any, steps: list[PipelineStep]) -> dict[str, set[str]]:
    """For each step, the steps its reuse task waits for (data and ordering edges)."""
    by_task = {}
    for step in steps:
        by_task[step.reuse_task] = step.description["name"]
        by_task[step.run_task] = step.description["name"]
    upstream: dict[str, set[str]] = {}
    for step in steps:
        task = dag.get_task(step.reuse_task)
        upstream[step.description["name"]] = {
            by_task[task_id] for task_id in task.upstream_task_ids if task_id in by_task
        } - {step.description["name"]}
    return upstream


def run_records(session: Any, dag_id: str, run_id: str, steps: list[PipelineStep]) -> list[StepRecord]:
    """Each step's tasks, XCom values and latest cache decision in one DAG run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    task_ids = [task for step in steps for task in (step.reuse_task, step.run_task)]
    states = {
        ti.task_id: TaskState(
            str(ti.state) if ti.state is not None else None, ti.start_date, ti.end_date, ti.try_number or 0
        )
        for ti in session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id.in_(task_ids),
                TaskInstance.map_index == -1,
            )
        )
    }
    values: dict[tuple[str, str], Any] = {}
    for row in session.scalars(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id.in_(task_ids),
            XComModel.key.in_(XCOM_KEYS),
        )
    ):
        values[(row.task_id, row.key)] = XComModel.deserialize_value(row)
    store = cache_store()
    records = []
    for step in steps:
        xcom: dict[str, Any] = {}
        for task_id in (step.reuse_task, step.run_task):  # the run task's value wins
            xcom.update({key: value for (task, key), value in values.items() if task == task_id})
        decisions = store.decisions(dag_id, step.description["name"], run_id)
        records.append(
            StepRecord(
                step.description,
                states.get(step.reuse_task, TaskState()),
                states.get(step.run_task, TaskState()),
                xcom,
                decisions[-1] if decisions else None,
            )
        )
    return records


def cache_store() -> Any:
    from airflow_ml_provider.caching.store import StepCacheStore

    return StepCacheStore()


@cache
def _mlflow_client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def tracking_runs(run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Status, metrics, link and ``reused_from`` of MLflow runs; what cannot be read is left out."""
    from airflow_ml_provider.hooks.tracking_config import resolve

    found: dict[str, dict[str, Any]] = {}
    if not run_ids:
        return found
    try:
        config = resolve()
        client = _mlflow_client(config.uri)
    except Exception:
        return found
    for run_id in run_ids:
        try:
            run = client.get_run(run_id)
        except Exception:
            continue
        found[run_id] = {
            "run_id": run_id,
            "status": run.info.status,
            "metrics": dict(run.data.metrics),
            "url": config.run_url(run.info.experiment_id, run_id),
            "reused_from": run.data.tags.get("reused_from"),
            "dag_id": run.data.tags.get("dag_id"),
        }
    return found
