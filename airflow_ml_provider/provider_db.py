"""Engines for the provider's own SQL database (``[ml_pipelines] cache_url``): SQLite under
AIRFLOW_HOME by default (WAL, waiting on locks), any SQLAlchemy URL in production."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event

from airflow_ml_provider.private import private_file


@cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        # The file the step cache shares: private (0600 in a 0700 folder) whoever opens it first.
        private_file(Path(url[len("sqlite:///") :]))
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            connection.execute("pragma journal_mode=wal")
            connection.execute("pragma busy_timeout=60000")

        return engine
    return create_engine(url, pool_pre_ping=True)


def provider_engine(metadata: MetaData, url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the configured one) with ``metadata``'s tables created."""
    from airflow_ml_provider import settings

    engine = _engine(url or settings.cache_url())
    _create(engine, metadata)
    return engine


@cache
def _create(engine: Engine, metadata: MetaData) -> None:
    metadata.create_all(engine)
