"""A large step cache: pages through the index, a TTL sweep in short batches, indexes on old stores."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from airflow_ml_provider.caching.store import CacheEntry, StepCacheStore


def entry(index: int, *, dag: str = "dag", step: str = "step", age: float = 0.0) -> CacheEntry:
    return CacheEntry(
        fingerprint=f"{index:064x}",
        base_key=f"{index:064x}",
        dag_id=dag,
        step=step,
        pre_image={"version": 1},
        modules={},
        outputs={"out": {"uri": f"file:///tmp/{index}", "digest": "blake3:0", "size": 0, "files": 0}},
        produced_by={"run_id": f"run_{index}", "try": 1},
        created_at=time.time() - age,
    )


@pytest.fixture
def store(tmp_path: Path) -> StepCacheStore:
    return StepCacheStore(f"sqlite:///{tmp_path / 'cache.db'}")


def test_pages_list_every_entry_once_in_order(store: StepCacheStore):
    for index in range(23):
        store.put(entry(index, step=f"step_{index % 3}", age=index))
    everything = store.list_entries()
    pages, after = [], None
    while True:
        page = store.list_entries(limit=5, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1].fingerprint
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [e.fingerprint for page in pages for e in page] == [e.fingerprint for e in everything]
    only = store.list_entries(step="step_1", limit=3)
    assert [e.step for e in only] == ["step_1"] * 3
    assert store.list_entries(after="no-such-fingerprint") == []


def test_the_ttl_sweep_removes_only_expired_entries_in_batches(store: StepCacheStore):
    for index in range(7):
        store.put(entry(index, age=1000 + index))  # expired
    for index in range(7, 10):
        store.put(entry(index, age=10))
    assert store.sweep_expired(500, batch=2) == 7
    assert sorted(int(e.fingerprint, 16) for e in store.list_entries()) == [7, 8, 9]
    assert store.sweep_expired(500, batch=2) == 0


def test_a_store_made_before_the_indexes_gets_them(tmp_path: Path):
    database = tmp_path / "old.db"
    with sqlite3.connect(database) as connection:  # the table as an earlier version created it
        connection.execute(
            "create table ml_step_cache_entry (fingerprint varchar(64) primary key, base_key varchar(64) "
            "not null, dag_id varchar(250) not null, step varchar(250) not null, pre_image text not null, "
            "modules text not null, outputs text not null, produced_by text not null, "
            "created_at float not null)"
        )
    StepCacheStore(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:
        indexes = {row[1] for row in connection.execute("pragma index_list(ml_step_cache_entry)")}
    assert {"ml_step_cache_entry_step_age", "ml_step_cache_entry_age"} <= indexes


def test_a_store_already_at_its_schema_is_opened_without_checking_it(tmp_path: Path):
    # Every task process opens the store: checking each table and index there costs tens of ms.
    from sqlalchemy import Engine, event

    from airflow_ml_provider import provider_db
    from airflow_ml_provider.caching.store import _schema

    url = f"sqlite:///{tmp_path / 'cache.db'}"
    StepCacheStore(url).put(entry(1))
    provider_db.engine(url).dispose()  # as in a new task process
    provider_db.engine.cache_clear()
    _schema.cache_clear()
    statements: list[str] = []

    def note(connection, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        store = StepCacheStore(url)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert statements == ["pragma user_version"]
    assert [e.fingerprint for e in store.candidates(entry(1).base_key)] == [entry(1).fingerprint]
