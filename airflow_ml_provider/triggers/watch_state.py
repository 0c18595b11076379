"""What a datastore watch last saw, kept in the provider's database so that a restarted
triggerer compares with it (files that landed meanwhile still start a run) instead of
taking a new baseline."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select

from airflow_ml_provider.provider_db import provider_engine
from airflow_ml_provider.triggers.manifest import Manifest

metadata = MetaData()

watches = Table(
    "ml_datastore_watch",
    metadata,
    Column("watch", String(64), primary_key=True),
    Column("description", Text, nullable=False),
    Column("manifest", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


def watch_key(settings: dict[str, Any]) -> str:
    """One key per distinct watch (datastore, path, interval, parameter)."""
    import blake3

    return blake3.blake3(json.dumps(settings, sort_keys=True).encode()).hexdigest()


class WatchState:
    def __init__(self, url: str | None = None) -> None:
        self.engine = provider_engine(metadata, url)

    def load(self, key: str) -> Manifest | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(watches.c.manifest).where(watches.c.watch == key)).first()
        return dict(json.loads(row.manifest)) if row is not None else None

    def save(self, key: str, description: str, manifest: Manifest) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(watches).where(watches.c.watch == key))
            connection.execute(
                insert(watches).values(
                    watch=key, description=description, manifest=json.dumps(manifest), updated_at=time.time()
                )
            )
