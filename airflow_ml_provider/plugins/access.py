"""Who may see and change what through the plugin: Airflow's auth manager decides, per DAG.

A user who may not read a DAG gets a 403 for every route about it and never sees it in a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import HTTPException, status

# What the run view shows of a DAG: its runs, their task instances and XCom values.
READ_ENTITIES = ("RUN", "TASK_INSTANCE", "XCOM")


def _team_name(dag_id: str) -> str | None:
    from airflow.models.dag import DagModel

    get_team_name = getattr(DagModel, "get_team_name", None)
    return get_team_name(dag_id) if get_team_name else None


def _details(dag_id: str | None) -> Any:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    if dag_id is None:
        return None
    try:
        return DagDetails(id=dag_id, team_name=_team_name(dag_id))
    except TypeError:  # an Airflow without teams
        return DagDetails(id=dag_id)


def may(user: Any, method: str, dag_id: str | None, entities: Iterable[str | None] = (None,)) -> bool:
    """Whether ``user`` may ``method`` (GET, PUT, ...) each of ``entities`` of DAG ``dag_id``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    manager, details = get_auth_manager(), _details(dag_id)
    return all(
        manager.is_authorized_dag(
            method=method,  # type: ignore[arg-type]
            access_entity=DagAccessEntity[entity] if entity else None,
            details=details,
            user=user,
        )
        for entity in entities
    )


def require(user: Any, method: str, dag_id: str | None, entities: Iterable[str | None] = (None,)) -> None:
    if not may(user, method, dag_id, entities):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")


def require_read(user: Any, dag_id: str) -> None:
    require(user, "GET", dag_id, READ_ENTITIES)


def readable_dag_ids(user: Any, session: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session))


def may_read_every_dag(user: Any, session: Any) -> bool:
    """True when no DAG is hidden from ``user`` (what showing a whole MLflow store needs)."""
    from airflow.models.dag import DagModel
    from sqlalchemy import select

    every = set(session.scalars(select(DagModel.dag_id)))
    return every <= readable_dag_ids(user, session) and may(user, "GET", None, READ_ENTITIES)
