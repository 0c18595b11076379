"""Routes of the pipeline views: a DAG's steps and runs, one run's steps, two runs compared."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select

from airflow_ml_provider.plugins.access import require_read
from airflow_ml_provider.plugins.readers import (
    PipelineStep,
    pipeline_steps,
    run_records,
    step_upstream,
    tracking_runs,
)
from airflow_ml_provider.plugins.views import StepRecord, compare_runs, run_view

router = APIRouter(tags=["pipelines"])


def _dag_bag(request: Request) -> Any:
    return request.app.state.dag_bag


def find_dag_run(session: Any, dag_id: str, run_id: str) -> Any:
    from airflow.models.dagrun import DagRun

    found = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id} has no run {run_id}")
    return found


def dag_steps(
    request: Request, session: Any, dag_id: str, dag_run: Any = None
) -> tuple[Any, list[PipelineStep]]:
    from airflow.api_fastapi.common.dagbag import get_dag_for_run_or_latest_version

    dag = get_dag_for_run_or_latest_version(_dag_bag(request), dag_run, dag_id, session)
    steps = pipeline_steps(dag)
    if not steps:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id} has no pipeline steps")
    return dag, steps


def _run_summary(dag_run: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "dag_id": dag_run.dag_id,
        "run_id": dag_run.run_id,
        "state": str(dag_run.state) if dag_run.state is not None else None,
        "run_type": str(dag_run.run_type),
        "logical_date": iso(dag_run.logical_date),
        "start": iso(dag_run.start_date),
        "end": iso(dag_run.end_date),
        "params": dict(dag_run.conf or {}),
    }


def _with_tracking(view: dict[str, Any]) -> dict[str, Any]:
    runs = tracking_runs([step["mlflow_run_id"] for step in view["steps"] if step["mlflow_run_id"]])
    for step in view["steps"]:
        step["mlflow"] = runs.get(step["mlflow_run_id"]) if step["mlflow_run_id"] else None
    return view


def _view(
    request: Request, session: Any, dag_id: str, run_id: str
) -> tuple[dict[str, Any], list[StepRecord]]:
    dag_run = find_dag_run(session, dag_id, run_id)
    dag, steps = dag_steps(request, session, dag_id, dag_run)
    records = run_records(session, dag_id, run_id, steps)
    summary = _run_summary(dag_run)
    summary["params"] = _run_params(dag, dag_run)
    return run_view(records, step_upstream(dag, steps), summary), records


def _run_params(dag: Any, dag_run: Any) -> dict[str, Any]:
    """The parameters the run had: the DAG's defaults, overridden by the run's conf."""
    params = {}
    for name, param in getattr(dag, "params", {}).items():
        value = getattr(param, "value", param)
        params[name] = (
            value
            if isinstance(value, str | int | float | bool | list | dict) or value is None
            else str(value)
        )
    params.update({k: v for k, v in (dag_run.conf or {}).items() if k in params})
    return params


@router.get("/dags/{dag_id}/pipeline")
def pipeline(dag_id: str, request: Request, session: SessionDep, user: GetUserDep) -> dict[str, Any]:
    """The pipeline's steps and data as the latest DAG version defines them, with no run."""
    require_read(user, dag_id)
    dag, steps = dag_steps(request, session, dag_id)
    records = [StepRecord(step.description) for step in steps]
    return run_view(records, step_upstream(dag, steps), {"dag_id": dag_id, "run_id": None})


@router.get("/dags/{dag_id}/runs")
def runs(
    dag_id: str, session: SessionDep, user: GetUserDep, limit: int = Query(25, ge=1, le=200)
) -> list[dict[str, Any]]:
    """The DAG's most recent runs, newest first."""
    from airflow.models.dagrun import DagRun

    require_read(user, dag_id)
    found = session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(limit)
    )
    return [_run_summary(dag_run) for dag_run in found]


@router.get("/dags/{dag_id}/runs/{run_id}")
def run(dag_id: str, run_id: str, request: Request, session: SessionDep, user: GetUserDep) -> dict[str, Any]:
    """One run: every step's status, reuse decision, duration, outputs and MLflow run."""
    require_read(user, dag_id)
    view, _ = _view(request, session, dag_id, run_id)
    return _with_tracking(view)


@router.get("/dags/{dag_id}/compare")
def compare(
    dag_id: str,
    request: Request,
    session: SessionDep,
    user: GetUserDep,
    base: str = Query(..., description="the earlier run"),
    other: str = Query(..., description="the run to compare with it"),
) -> dict[str, Any]:
    """Which steps changed between two runs, and why (field by field, as the reuse decided)."""
    require_read(user, dag_id)
    base_view, base_records = _view(request, session, dag_id, base)
    other_view, other_records = _view(request, session, dag_id, other)
    before, after = _pre_images(base_records), _pre_images(other_records)
    pre_images = {name: (before.get(name), after.get(name)) for name in before}
    return {
        "base": base_view["run"],
        "other": other_view["run"],
        "params": _changed_params(base_view["run"]["params"], other_view["run"]["params"]),
        "steps": compare_runs(base_view, other_view, pre_images),
    }


def _pre_images(records: list[StepRecord]) -> dict[str, Any]:
    return {
        record.description["name"]: record.decision.pre_image if record.decision else None
        for record in records
    }


def _changed_params(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "base": before.get(name), "other": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]
