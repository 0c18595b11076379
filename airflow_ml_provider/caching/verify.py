"""A hit is only a hit if its outputs are still there, as they were recorded."""

from __future__ import annotations

from typing import Any

from fsspec.core import url_to_fs

from airflow_ml_provider.caching.content import local_content_digest
from airflow_ml_provider.caching.remote import remote_content_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.stores import storage_options_for


def output_problem(
    name: str, reference: dict[str, Any], *, full: bool, cache: StatCache, kind: str = "output"
) -> str | None:
    """Why a recorded output can no longer be reused (or read as an input), or None if it can."""
    uri = reference["uri"]
    local = local_path(uri)
    if local is not None:
        if not local.exists():
            return f'{kind} "{name}" is gone from {uri}'
        content = path_digest(local) if full else local_content_digest(local, cache)
        if (content.digest, content.size, content.files) != (
            reference["digest"],
            reference["size"],
            reference["files"],
        ):
            return f'{kind} "{name}" was altered at {uri}'
        return None
    fs, path = url_to_fs(uri, **storage_options_for(uri))
    fs.invalidate_cache()
    if not fs.exists(path):
        return f'{kind} "{name}" is gone from {uri}'
    found = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
    size = sum(int(info.get("size") or 0) for info in found.values())
    if (size, len(found)) != (reference["size"], reference["files"]):
        return f'{kind} "{name}" was altered at {uri} (size or file count differs)'
    return None


def reference_digest(uri: str, storage_options: dict[str, Any], *, datastore: str, cache: StatCache) -> str:
    """The fingerprint digest of data a ``DataReference`` names (local: through the stat cache).

    Raises FileNotFoundError for local data that is not there, StoreError for remote failures.
    """
    local = local_path(uri)
    if local is None:
        return remote_content_digest(uri, storage_options, datastore=datastore).digest
    return local_content_digest(local, cache).digest
