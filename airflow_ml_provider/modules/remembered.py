"""Published module versions as DAG parsing last read them, so that a parse of a pipeline spec
with module steps need not query the module registry (a database, PostgreSQL in a deployment).

A version is remembered for ``[ml_pipelines] module_version_seconds`` (default 300; 0: read
the registry at every parse). Publishing, a new default or a new status through this machine
forgets what it remembers at once; other machines see the change within that time. A
version's files and interface never change once published, only its status and which
version is the default.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from airflow_ml_provider import settings
from airflow_ml_provider.remembered import RememberedFile

if TYPE_CHECKING:  # the store forgets through this module: no import cycle at run time
    from airflow_ml_provider.modules.store import PublishedVersion

_FILE = RememberedFile("module-versions.json")


def _key(name: str, version: str | None) -> str:
    # The registry's database, then the module; no version: the default one.
    return f"{settings.cache_url()}|{name}@{'' if version is None else version}"


def remembered_version(
    name: str, version: str | None, *, now: float | None = None
) -> PublishedVersion | None:
    entry = _FILE.read().get(_key(name, version))
    now = time.time() if now is None else now
    if not isinstance(entry, dict) or now - float(entry.get("at", 0)) >= settings.module_version_seconds():
        return None
    from airflow_ml_provider.modules.store import PublishedVersion

    try:
        return PublishedVersion.from_json(entry["version"])
    except (KeyError, TypeError, ValueError):
        return None


def remember_version(
    name: str, version: str | None, found: PublishedVersion, *, now: float | None = None
) -> None:
    if settings.module_version_seconds() <= 0:
        return
    known = _FILE.read()
    known[_key(name, version)] = {"at": time.time() if now is None else now, "version": found.to_json()}
    _FILE.write(known)


def forget_module_versions() -> None:
    _FILE.forget()
