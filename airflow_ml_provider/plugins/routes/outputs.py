"""Routes that look into a run's step outputs: preview and download, through their datastore."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from airflow_ml_provider.handoff import OUTPUTS_KEY, OutputReference
from airflow_ml_provider.plugins.access import require_read
from airflow_ml_provider.plugins.outputs import OutputLocation, OutputPathError, preview, read_chunks
from airflow_ml_provider.plugins.readers import run_records
from airflow_ml_provider.plugins.routes.pipelines import dag_steps, find_dag_run

router = APIRouter(tags=["outputs"])


def _location(request: Request, session: Any, dag_id: str, run_id: str, output: str) -> OutputLocation:
    """Where the run's output ``output`` was published; only a reference the run recorded, and
    only inside the datastore it names."""
    from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook

    _, steps = dag_steps(request, session, dag_id, find_dag_run(session, dag_id, run_id))
    for record in run_records(session, dag_id, run_id, steps):
        references = record.xcom.get(OUTPUTS_KEY)
        if not isinstance(references, dict) or output not in references:
            continue
        declared = {o["name"]: o for o in record.description["outputs"]}
        destination = record.description.get("destination") or {}
        datastore = (declared.get(output) or destination).get("datastore") or "default"
        try:
            resolved = DatastoreHook(datastore).resolve()
        except DatastoreError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
        uri = OutputReference.from_json(references[output]).uri
        if not uri.startswith(resolved.base_uri.rstrip("/") + "/"):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f'output "{output}" is not on datastore "{datastore}"'
            )
        return OutputLocation(uri, resolved.storage_options)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f'run {run_id} published no output "{output}"')


@router.get("/dags/{dag_id}/runs/{run_id}/outputs/{output}/preview")
def output_preview(
    dag_id: str,
    run_id: str,
    output: str,
    request: Request,
    session: SessionDep,
    user: GetUserDep,
    file: str | None = Query(None, description="a file inside a folder output"),
) -> dict[str, Any]:
    require_read(user, dag_id)
    location = _location(request, session, dag_id, run_id, output)
    try:
        return {"uri": location.uri, **preview(location, file)}
    except (OutputPathError, FileNotFoundError) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@router.get("/dags/{dag_id}/runs/{run_id}/outputs/{output}/download")
def output_download(
    dag_id: str,
    run_id: str,
    output: str,
    request: Request,
    session: SessionDep,
    user: GetUserDep,
    file: str | None = Query(None, description="a file inside a folder output"),
) -> StreamingResponse:
    require_read(user, dag_id)
    location = _location(request, session, dag_id, run_id, output)
    try:
        name, chunks = read_chunks(location, file)
    except (OutputPathError, FileNotFoundError) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    safe = name.replace('"', "_")
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
