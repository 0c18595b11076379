"""A hit is only a hit if its outputs are still there, as they were recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsspec.core import url_to_fs

from airflow_ml_provider.caching.content import local_content_digest
from airflow_ml_provider.caching.remote import remote_content_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.handoff import STORE_DIGEST
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.walk import walk_files


def output_problem(
    name: str,
    reference: dict[str, Any],
    *,
    full: bool,
    cache: StatCache,
    storage_options: Callable[[], dict[str, Any]],
    kind: str = "output",
) -> str | None:
    """Why a recorded output can no longer be reused (or read as an input), or None if it can.

    ``storage_options`` gives the options of the datastore the output is on: asked only for an
    output on a remote store (a local one needs no connection read).
    """
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
    options = storage_options()
    fs, path = url_to_fs(uri, **options)
    fs.invalidate_cache()
    if not fs.exists(path):
        return f'{kind} "{name}" is gone from {uri}'
    sizes = [entry.size for entry in walk_files(path, fs)] if fs.isdir(path) else [fs.size(path) or 0]
    if (sum(sizes), len(sizes)) != (reference["size"], reference["files"]):
        return f'{kind} "{name}" was altered at {uri} (size or file count differs)'
    if full:
        if path_digest(path, fs).digest != reference["digest"]:
            return f'{kind} "{name}" was altered at {uri} (its bytes differ from their recorded digest)'
    elif (
        reference.get(STORE_DIGEST) and remote_content_digest(uri, options).digest != reference[STORE_DIGEST]
    ):
        return f'{kind} "{name}" was altered at {uri} (the store\'s checksums differ from those recorded)'
    return None


def store_digest(uri: str, storage_options: dict[str, Any]) -> str | None:
    """What the store itself says of a remote output just published (None for a local one).

    Kept in the output's reference as ``store_digest`` and compared on every hit: other bytes
    of the same size written over it change the store's checksums (or ETag, or version id).
    """
    if local_path(uri) is not None:
        return None
    return remote_content_digest(uri, storage_options).digest


def reference_digest(uri: str, storage_options: dict[str, Any], *, datastore: str, cache: StatCache) -> str:
    """The fingerprint digest of data a ``DataReference`` names (local: through the stat cache).

    Raises FileNotFoundError for local data that is not there, StoreError for remote failures.
    """
    local = local_path(uri)
    if local is None:
        return remote_content_digest(uri, storage_options, datastore=datastore).digest
    return local_content_digest(local, cache).digest
