"""Routes of the pipeline designer: what can be placed, specs to open, live checks, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select

from airflow_ml_provider.compute_kinds import KIND_OF_CONN_TYPE
from airflow_ml_provider.connection_types import DATASTORE_TYPE, OLD_COMPUTE_TYPE, OLD_DATASTORE_TYPE
from airflow_ml_provider.pipeline.spec import STEP_KINDS, PipelineSpecError, load_document
from airflow_ml_provider.plugins.access import may, readable_dag_ids, require
from airflow_ml_provider.plugins.designer import (
    SpecFileError,
    check,
    designer_folder,
    list_specs,
    loader_path,
    save,
    script_steps,
    spec_path,
)

router = APIRouter(tags=["designer"])


class SpecBody(BaseModel):
    document: dict[str, Any]
    file: str | None = None


def _connections(session: Any, user: Any, conn_types: list[str]) -> list[str]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.connection import Connection

    if not get_auth_manager().is_authorized_connection(method="GET", user=user):
        return []
    return sorted(session.scalars(select(Connection.conn_id).where(Connection.conn_type.in_(conn_types))))


def _modules(user: Any) -> list[dict[str, Any]]:
    """Every usable (not disabled) version of each published module, for a user who may use the
    designer (its checks need GET on DAGs, as the live check does)."""
    from airflow_ml_provider.modules.store import ModuleRegistry

    if not may(user, "GET", None):
        return []
    registry = ModuleRegistry()
    return [
        version.view()
        for name in registry.names()
        for version in registry.versions(name)
        if version.status != "Disabled"
    ]


@router.get("/designer/palette")
def palette(session: SessionDep, user: GetUserDep) -> dict[str, Any]:
    """Step kinds, the scripts found beside the DAGs, published modules, compute targets and
    datastores."""
    return {
        "kinds": list(STEP_KINDS),
        "scripts": script_steps(designer_folder()),
        "compute_targets": ["local", *_connections(session, user, [*KIND_OF_CONN_TYPE, OLD_COMPUTE_TYPE])],
        "datastores": ["default", *_connections(session, user, [DATASTORE_TYPE, OLD_DATASTORE_TYPE])],
        "modules": _modules(user),
        "folder": str(designer_folder()),
    }


@router.get("/designer/specs")
def specs(session: SessionDep, user: GetUserDep) -> list[dict[str, Any]]:
    """Pipeline specs in the designer folder whose DAGs the user may read (or that are no DAG yet)."""
    from airflow.models.dag import DagModel

    readable = readable_dag_ids(user, session)
    known = set(session.scalars(select(DagModel.dag_id)))
    return [
        vars(spec)
        for spec in list_specs(designer_folder())
        if spec.dag_id is None
        or spec.dag_id in readable
        or (spec.dag_id not in known and may(user, "GET", None))
    ]


def _readable_spec(file: str, session: Any, user: Any) -> tuple[Path, dict[str, Any]]:
    try:
        path = spec_path(designer_folder(), file)
        document = load_document(path.read_text(), source=file)
    except SpecFileError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    except FileNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no spec {file}") from None
    except PipelineSpecError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    require(user, "GET", str(document.get("dag_id") or "") or None)
    return path, document


@router.get("/designer/spec")
def open_spec(session: SessionDep, user: GetUserDep, file: str = Query(...)) -> dict[str, Any]:
    _, document = _readable_spec(file, session, user)
    return {"file": file, "document": document}


@router.post("/designer/check")
def check_spec(body: SpecBody, user: GetUserDep) -> dict[str, Any]:
    """Every problem of a spec, as parsing its DAG file would report them."""
    require(user, "GET", None)
    return {"problems": check(body.document, designer_folder())}


@router.put("/designer/spec")
def save_spec(body: SpecBody, session: SessionDep, user: GetUserDep) -> dict[str, Any]:
    """Save a spec (refused while it has problems) and, for a new one, the loader beside it."""
    from airflow.models.dag import DagModel

    document, file = body.document, body.file
    dag_id = document.get("dag_id")
    require(user, "PUT", str(dag_id) if isinstance(dag_id, str) and dag_id else None)
    folder = designer_folder()
    problems = check(document, folder)
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, {"problems": problems})
    existing = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
    try:
        target = spec_path(folder, file or f"{dag_id}.pipeline.yaml")
        if existing is not None and Path(existing.fileloc or "").resolve() != loader_path(target):
            raise SpecFileError(
                f"DAG {dag_id} already exists in {existing.fileloc}; give the pipeline another dag_id"
            )
        spec, loader = save(document, folder, target.relative_to(folder).as_posix())
    except SpecFileError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return {"file": spec.relative_to(folder).as_posix(), "loader": loader.relative_to(folder).as_posix()}
