"""Routes of the step cache page: entries by DAG and step, clearing them, and why a step re-ran."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, HTTPException, Query, status

from airflow_ml_provider.plugins.access import may, readable_dag_ids, require, require_read
from airflow_ml_provider.plugins.readers import cache_store

router = APIRouter(tags=["step cache"])

# Clearing entries makes steps run again, as clearing task instances does.
CLEAR = ("PUT", ("TASK_INSTANCE",))


def entry_view(entry: Any, reuses: dict[str, tuple[int, float]]) -> dict[str, Any]:
    hits, last_hit = reuses.get(entry.base_key, (0, None))
    return {
        "dag_id": entry.dag_id,
        "step": entry.step,
        "fingerprint": entry.fingerprint,
        "created_at": entry.created_at,
        "produced_by": entry.produced_by,
        "outputs": {
            name: {key: reference.get(key) for key in ("uri", "size", "files", "digest")}
            for name, reference in entry.outputs.items()
        },
        "size": sum(int(reference.get("size") or 0) for reference in entry.outputs.values()),
        "hits": hits,
        "last_hit": last_hit,
    }


@router.get("/cache")
def cache_entries(
    session: SessionDep,
    user: GetUserDep,
    dag_id: str | None = Query(None),
    step: str | None = Query(None),
) -> dict[str, Any]:
    """Cached step results of the DAGs the user may read, by DAG and step."""
    readable = readable_dag_ids(user, session)
    if dag_id is not None and dag_id not in readable:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")
    store = cache_store()
    reuses = store.reuses(dag_id)
    entries = [entry_view(e, reuses) for e in store.list_entries(dag_id, step) if e.dag_id in readable]
    dag_ids = sorted({entry["dag_id"] for entry in entries})
    return {
        "entries": entries,
        "can_clear": {dag: may(user, CLEAR[0], dag, CLEAR[1]) for dag in dag_ids},
    }


@router.delete("/cache/{dag_id}")
def clear_entries(
    dag_id: str,
    user: GetUserDep,
    step: str | None = Query(None),
    fingerprint: str | None = Query(None, min_length=8),
) -> dict[str, int]:
    """Forget a DAG's cached results: one entry (by fingerprint), a step's, or all of the DAG's."""
    require(user, CLEAR[0], dag_id, CLEAR[1])
    store = cache_store()
    if fingerprint and not any(
        e.fingerprint.startswith(fingerprint) for e in store.list_entries(dag_id, step)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entry {fingerprint} of DAG {dag_id}")
    return {"cleared": store.clear(dag_id, step, fingerprint)}


@router.get("/cache/{dag_id}/{step}/explain")
def explain(dag_id: str, step: str, user: GetUserDep, run_id: str | None = Query(None)) -> dict[str, Any]:
    """Why a step ran or was reused in a run (default: the latest), field by field against the
    closest earlier result: what ``airflow-ml cache explain`` prints."""
    from airflow_ml_provider.caching.explain import compare_fields

    require_read(user, dag_id)
    store = cache_store()
    decisions = store.decisions(dag_id, step, run_id)
    if not decisions:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f'no decision recorded for step "{step}" of DAG {dag_id}'
        )
    decision = decisions[-1]
    earlier = store.latest(dag_id, step, before=decision.at)
    fields = []
    if decision.pre_image is not None and earlier is not None:
        fields = [
            {"field": name, "earlier": old, "now": new, "changed": old != new}
            for name, old, new in compare_fields(earlier.pre_image, decision.pre_image)
        ]
    return {
        "dag_id": dag_id,
        "step": step,
        "run_id": decision.run_id,
        "decision": decision.decision,
        "message": decision.message,
        "fingerprint": decision.base_key,
        "earlier_run_id": earlier.origin.produced_by.run_id if earlier else None,
        "fields": fields,
    }
