"""What a datastore path holds, file by file, through the digests the reuse uses; what changed.

Local datastores: blake3 per file through the stat cache (an unchanged file is not re-read).
Object stores: the store's own checksum, a single-part MD5 ETag or the version id, else
the bytes (``caching.remote.object_digest``). So a file rewritten with the same bytes keeps
its digest and is no change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_ml_provider.caching.remote import object_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import tagged
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.stores import check_exists, with_retries
from airflow_ml_provider.runtime.walk import walk_files

# relative path (posix, inside the watched folder; "" when the watched path is a file) -> digest
Manifest = dict[str, str]


def changed_files(before: Manifest | None, after: Manifest) -> list[str]:
    """Files added or whose content changed, sorted; nothing when there is no earlier view."""
    if before is None:
        return []
    return sorted(path for path, digest in after.items() if before.get(path) != digest)


def common_folder(paths: list[str]) -> str:
    """The deepest folder holding every path ('' for the root); the path itself when only one."""
    if len(set(paths)) == 1:
        return paths[0]
    parts = [path.split("/")[:-1] for path in paths]
    shared: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        shared.append(level[0])
    return "/".join(shared)


def local_manifest(root: Path, stat_cache: StatCache) -> Manifest:
    """Every file under a local folder (or the one file) with its blake3 digest."""
    if root.is_file():
        _, digest = stat_cache.digests([root])[root]
        return {"": tagged(digest)}
    if not root.is_dir():
        return {}
    return {
        relative: tagged(digest)
        for relative, _, digest in stat_cache.iter_digests_under(root, walk_files(root))
    }


def remote_manifest(uri: str, storage_options: dict[str, Any], *, datastore: str) -> Manifest:
    """Every object under a remote prefix (or the one object) with the digest the reuse uses."""
    from fsspec.core import url_to_fs

    protocol = uri.split("://", 1)[0]

    def compute() -> Manifest:
        fs, path = url_to_fs(uri, **storage_options)
        fs.invalidate_cache()
        check_exists(fs, path.split("/", 1)[0])  # a missing bucket is an error; a missing prefix is empty
        if not fs.exists(path):
            return {}
        if not fs.isdir(path):
            return {"": object_digest(protocol, fs, path, fs.info(path))}
        return {
            entry.relative: object_digest(protocol, fs, entry.path, entry.detail)
            for entry in walk_files(path, fs)
        }

    return with_retries(compute, datastore=datastore, uri=uri, action="read")


def manifest(uri: str, storage_options: dict[str, Any], stat_cache: StatCache, *, datastore: str) -> Manifest:
    local = local_path(uri)
    if local is not None:
        return local_manifest(local, stat_cache)
    return remote_manifest(uri, storage_options, datastore=datastore)
