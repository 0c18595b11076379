"""Where a step's code may come from: the DAG folder of its DAG file, or folders allowed by name.

A step's ``source_directory`` is read to fingerprint it, and every digest lands in the step
cache; a step of a DAG in the DAG folder must not reach ``/etc`` or a neighbour's home through
``../..``, an absolute path or a folder link. Folders outside are allowed through
``[ml_pipelines] allowed_source_roots``. A DAG file outside the DAG folder (``airflow-ml run``
on a file elsewhere) confines its steps to its own folder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from airflow_ml_provider import settings
from airflow_ml_provider.caching.content import SnapshotLimits


def _dags_folder() -> Path | None:
    folder = os.environ.get("AIRFLOW__CORE__DAGS_FOLDER")
    if not folder:
        from airflow.configuration import conf

        folder = conf.get("core", "dags_folder", fallback=None)
    return _resolved(folder) if folder else None


@lru_cache(maxsize=1024)
def _resolved(path: str) -> Path:
    """``path`` resolved, once per process: a parse checks every step against the same folders."""
    return Path(path).expanduser().resolve()


def source_roots(base_directory: Path) -> tuple[Path, ...]:
    """The folders a step defined in ``base_directory`` (its DAG file's folder) may read code from."""
    return _roots(_resolved(str(base_directory)), _dags_folder(), tuple(settings.allowed_source_roots()))


@lru_cache(maxsize=1024)
def _roots(base: Path, dags: Path | None, allowed: tuple[str, ...]) -> tuple[Path, ...]:
    own = dags if dags is not None and base.is_relative_to(dags) else base
    return (own, *(_resolved(root) for root in allowed))


def outside_roots(folder: Path, base_directory: Path) -> tuple[Path, ...] | None:
    """The roots ``folder`` is outside of, or None if it is inside one."""
    roots = source_roots(base_directory)
    return None if _inside_any(folder, roots) else roots


@lru_cache(maxsize=1024)
def _inside_any(folder: Path, roots: tuple[Path, ...]) -> bool:
    """Path arithmetic only (no file system): the steps of a pipeline share their folders."""
    return any(folder.is_relative_to(root) for root in roots)


def snapshot_limits(base_directory: Path) -> SnapshotLimits:
    return SnapshotLimits(
        max_files=settings.max_snapshot_files(),
        max_bytes=settings.max_snapshot_bytes(),
        roots=source_roots(base_directory),
    )
