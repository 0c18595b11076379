"""A step as plain JSON-ready data: what the UI draws (ports, data, compute target). Pure Python."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from airflow_ml_provider.pipeline.data import DataReference
from airflow_ml_provider.pipeline.steps import resolved


def _data(data: Any) -> dict[str, Any]:
    if isinstance(data, DataReference):
        return {
            "name": data.name,
            "kind": "reference",
            "datastore": data.datastore,
            "path": data.path_on_datastore,
            "mode": data.mode,
        }
    return {
        "name": data.name,
        "kind": "pipeline_data",
        "datastore": data.datastore or "default",
        "directory": data.is_directory,
        "mode": data.mode,
    }


@lru_cache(maxsize=1024)
def _relative(path: Any, base: Any) -> str | None:
    """Path arithmetic, the same for the steps of a folder."""
    if path is None:
        return None
    try:
        return Path(path).relative_to(resolved(Path(base))).as_posix() or "."
    except (TypeError, ValueError):
        return str(path)


def describe_step(step: Any) -> dict[str, Any]:
    """Name, kind, data in and out, compute target, script and arguments of one step."""
    description: dict[str, Any] = {
        "name": step.name,
        "kind": step.kind,
        "compute_target": step.compute_target,
        "allow_reuse": step.allow_reuse,
        "version": step.version,
        "inputs": [_data(data) for data in step.inputs],
        "outputs": [_data(data) for data in step.outputs],
    }
    if step.kind == "data_transfer":
        description["destination"] = _data(step.destination)
        description["source_reference_type"] = step.source_reference_type
        return description
    description |= {
        "script": step.script_name,
        "source_directory": _relative(step.source_directory, step.base_directory),
        "arguments": [token.to_json() for token in step.arguments],
        "parameters": sorted(step.parameters),
    }
    if getattr(step, "register_model", None):
        description["register_model"] = step.register_model
        description["model_alias"] = step.model_alias
    return description
