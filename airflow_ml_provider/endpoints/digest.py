"""The content digest of a pipeline: what a published version freezes beyond Airflow's DAG version.

Airflow's DAG version changes with the serialized DAG (steps, arguments, params), not with
the step scripts; this digest covers both: the DAG file, its parameters, each step (kind,
name, version, script, arguments, inputs, outputs, the files of its source directory, as
the reuse hashes them). No absolute paths, so every machine that parses the same files
computes the same digest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_ml_provider.caching.content import code_digests
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.pipeline.steps import Step
from airflow_ml_provider.runtime.digest import file_digest


def _data(data: Any) -> dict[str, Any]:
    return {
        "name": data.name,
        "kind": type(data).__name__,
        "datastore": getattr(data, "datastore", None),
        "path": getattr(data, "path_on_datastore", None),
        "mode": getattr(data, "mode", None),
        "is_directory": getattr(data, "is_directory", None),
    }


def _token(token: Any) -> Any:
    return [token.kind, token.value] if hasattr(token, "kind") else str(token)


def step_pre_image(step: Step, stat_cache: StatCache) -> dict[str, Any]:
    # A step without code of its own (a copy) is pinned to the files of its DAG file's folder,
    # and its script to "", as published digests always were.
    source = step.source_directory if step.source_directory is not None else step.base_directory
    return {
        "kind": step.kind,
        "version": step.version,
        "script": step.script_name or "",
        "arguments": [_token(token) for token in step.arguments],
        "params": {name: _token(token) for name, token in sorted(step.params.items())},
        "inputs": [_data(data) for data in step.inputs],
        "outputs": [_data(data) for data in step.outputs],
        "compute_target": step.compute_target,
        "code": code_digests(Path(source), stat_cache) if Path(source).is_dir() else {},
    }


def pipeline_pre_image(dag: Any, stat_cache: StatCache) -> dict[str, Any]:
    from airflow_ml_provider.rendered import pipeline_of

    graph = pipeline_of(dag)
    fileloc = getattr(dag, "fileloc", None)
    return {
        "version": 1,
        "dag_id": dag.dag_id,
        "dag_file": file_digest(fileloc) if fileloc and Path(fileloc).is_file() else None,
        "params": {name: dag.params.get_param(name).dump() for name in sorted(dag.params.keys())},
        "steps": {name: step_pre_image(step, stat_cache) for name, step in sorted(graph.steps.items())},
        "order": sorted(graph.edges),
    }


def pipeline_digest(dag: Any) -> str:
    """blake3 of the pipeline's canonical pre-image."""
    import blake3

    from airflow_ml_provider import settings

    stat_cache = StatCache(settings.stat_cache_path())
    try:
        pre_image = pipeline_pre_image(dag, stat_cache)
    finally:
        stat_cache.close()
    text = json.dumps(pre_image, sort_keys=True, default=str, separators=(",", ":"))
    return blake3.blake3(text.encode()).hexdigest()
