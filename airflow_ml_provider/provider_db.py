"""Engines for the provider's own SQL database (``[ml_pipelines] cache_url``): SQLite under
AIRFLOW_HOME by default (WAL, waiting on locks), any SQLAlchemy URL in production.

One engine per URL and process: the step cache, the endpoints and the watch state share the file.
"""

from __future__ import annotations

import time
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event

from airflow_ml_provider.private import private_file

# What SQLite says of a file that is not (or no longer) a usable database.
_DAMAGED = ("malformed", "not a database", "corrupt", "disk i/o error")


class StepCacheDamagedError(RuntimeError):
    """The step cache's database file is damaged: says which file and how to recover."""

    def __init__(self, location: str, cause: str) -> None:
        self.location = location
        super().__init__(
            f"the step cache database {location} is damaged ({cause}). Recover with "
            "`airflow-ml cache clear --all`, which sets the damaged file aside and creates a new "
            "one (cached results are computed again), or set [ml_pipelines] on_cache_error = "
            "run_uncached (AIRFLOW__ML_PIPELINES__ON_CACHE_ERROR=run_uncached) to run steps "
            "without the cache, with a warning, meanwhile."
        )


def sqlite_file(url: str) -> Path | None:
    return Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None


@cache
def engine(url: str) -> Engine:
    """The process's engine for ``url``; a SQLite file is made private and its damage named."""
    database = sqlite_file(url)
    if database is None:
        return create_engine(url, pool_pre_ping=True)
    private_file(database)  # it holds pre-images: argument values, file digests
    sqlite = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(sqlite, "connect")
    def _pragmas(connection: Any, _: Any) -> None:
        connection.execute("pragma journal_mode=wal")
        # In WAL mode, NORMAL syncs at checkpoints, not at every commit: the file stays
        # consistent after any crash, and only an OS crash or power loss can take back the
        # last commits (a result then computed again, a decision not shown). A reuse hit's
        # decision record no longer waits for the disk (the stat cache does the same).
        connection.execute("pragma synchronous=normal")
        connection.execute("pragma busy_timeout=60000")

    @event.listens_for(sqlite, "handle_error")
    def _damaged(context: Any) -> None:
        cause = str(context.original_exception)
        if any(marker in cause.lower() for marker in _DAMAGED):
            raise StepCacheDamagedError(str(database), cause) from None

    return sqlite


def provider_engine(metadata: MetaData, url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the configured one) with ``metadata``'s tables created."""
    from airflow_ml_provider import settings

    found = engine(url or settings.cache_url())
    _create(found, metadata)
    return found


@cache
def _create(bound: Engine, metadata: MetaData) -> None:
    metadata.create_all(bound)


def set_aside_damaged(url: str) -> Path | None:
    """Move a damaged SQLite database (and its WAL files) aside; returns where, None if not SQLite."""
    database = sqlite_file(url)
    if database is None:
        return None
    with suppress(Exception):  # close pooled connections to the old file, if it was ever opened
        engine(url).dispose()
    engine.cache_clear()
    aside = database.with_name(f"{database.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(f"{database}{suffix}")
        if part.exists():
            part.rename(f"{aside}{suffix}")
    return aside
