"""The step cache's writes on a real PostgreSQL (scripts/postgres.sh): upserts, and the prune of
each write, which skips the rows another write is pruning instead of waiting for it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy
from cache_rows import never_pruned

from airflow_ml_provider.caching.store import (
    PRUNE_BATCH,
    CacheEntry,
    Decision,
    StepCacheStore,
    _prune,
    pre_images,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def store(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[StepCacheStore]:
    """A store in a database of its own: a write prunes any step's decisions."""
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_TTL_SECONDS", "3600")
    server = postgres_url.rsplit("/", 1)[0]
    database = f"aml_cache_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"create database {database}"))
    store = StepCacheStore(f"{server}/{database}")
    yield store
    store.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"drop database if exists {database} with (force)"))
    admin.dispose()


def test_writes_upsert_and_a_write_skips_the_decisions_another_is_pruning(store: StepCacheStore):
    entry = CacheEntry("a" * 64, "b" * 64, "d", "s", {"version": 1}, {}, {"out": {}}, {"run_id": "r"}, 1.0)
    store.put(entry)
    store.put(CacheEntry(**{**entry.__dict__, "outputs": {"out": {"uri": "file:///again"}}}))
    assert [e.outputs for e in store.candidates("b" * 64)] == [{"out": {"uri": "file:///again"}}]

    long_ago = time.time() - 7200
    never_pruned(store, 2 * PRUNE_BATCH, long_ago)  # two batches of due decisions
    with store.engine.connect() as other:  # another write, pruning the oldest batch, not yet committed
        other.begin()
        assert _prune(other, time.time() - 3600, PRUNE_BATCH) == PRUNE_BATCH
        recorded = threading.Thread(
            target=store.record,
            args=(Decision("d", "new", "s", "run", "run", "f" * 64, {"version": 1}, time.time()),),
        )
        recorded.start()
        recorded.join(timeout=30)
        assert not recorded.is_alive(), "the write waited for the other write's prune"
        other.commit()
    assert [d.run_id for d in store.decisions("d", "s")] == ["new"]
    with store.engine.connect() as connection:
        assert connection.execute(sqlalchemy.select(pre_images.c.base_key)).scalars().all() == ["f" * 64]
