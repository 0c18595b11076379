"""A run's pipeline parameters: the DAG's params, plus what the events that started it say.

- A run started by a ``DatastoreSchedule`` gets the changed path in the parameter named by
  ``data_path_parameter_name``.
- A run started by a pipeline output asset gets the new output's URI in the parameter that
  the DAG's ``default_args={"asset_parameters": {"<asset name>": "<parameter>"}}`` names.

Read the same way by the reuse sensor (for the fingerprint) and the run task (for the
script's arguments), so both see one value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_ml_provider.triggers.datastore_change import EVENT_KIND
from airflow_ml_provider.triggers.manifest import common_folder

ASSET_PARAMETERS = "asset_parameters"


def changed_path_parameters(extras: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Parameter -> path from asset event extras, oldest first; several events share their common folder."""
    paths: dict[str, list[str]] = {}
    for extra in extras:
        payload = extra.get("payload") if isinstance(extra, dict) else None
        if isinstance(payload, dict) and payload.get("kind") == EVENT_KIND and payload.get("parameter"):
            paths.setdefault(str(payload["parameter"]), []).append(str(payload["path"]))
    return {name: common_folder(found) for name, found in paths.items()}


def output_uri_parameters(
    mapping: dict[str, str], events: Iterable[tuple[str, dict[str, Any]]]
) -> dict[str, str]:
    """Parameter -> URI of the latest output event of each asset the mapping names."""
    found: dict[str, str] = {}
    for asset_name, extra in events:
        if asset_name in mapping and isinstance(extra.get("uri"), str):
            found[str(mapping[asset_name])] = extra["uri"]
    return found


def run_parameters(context: Any) -> dict[str, Any]:
    """``context["params"]``, with what the asset events that started this run carry."""
    params = dict(context["params"])
    dag_run = context.get("dag_run")
    if str(getattr(dag_run, "run_type", "")) not in ("asset_triggered", "DagRunType.ASSET_TRIGGERED"):
        return params
    triggering = context.get("triggering_asset_events") or {}
    events = sorted(
        (event for asset_events in triggering.values() for event in asset_events),
        key=lambda event: str(getattr(event, "timestamp", "")),
    )
    extras = [(event.asset.name, dict(event.extra or {})) for event in events]
    params.update(changed_path_parameters(extra for _, extra in extras))
    dag = context.get("dag")
    mapping = dict((getattr(dag, "default_args", None) or {}).get(ASSET_PARAMETERS) or {})
    if mapping:
        params.update(output_uri_parameters(mapping, extras))
    return params
