"""The step cache's writes: one statement per upsert, a bounded prune per write, the bulk of
the pruning in the TTL sweep."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cache_rows import never_pruned
from sqlalchemy import Engine, event, select

from airflow_ml_provider.caching.store import (
    PRUNE_BATCH,
    CacheEntry,
    Decision,
    StepCacheStore,
    _update_or_insert,
    _upsert,
    decisions,
    pre_images,
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StepCacheStore:
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_TTL_SECONDS", "3600")
    return StepCacheStore(f"sqlite:///{tmp_path / 'cache.db'}")


def decide(store: StepCacheStore, run_id: str, base: str, at: float) -> None:
    store.record(Decision("d", run_id, "s", "run", "run", base, {"version": 1, "base": base}, at))


def make_old(store: StepCacheStore, count: int) -> float:
    long_ago = time.time() - 7200
    never_pruned(store, count, long_ago)
    return long_ago


def rows(store: StepCacheStore, column: Any) -> list[Any]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(select(column)).scalars())


def test_a_write_forgets_a_bounded_number_of_decisions_past_retention_oldest_first(store: StepCacheStore):
    make_old(store, 3 * PRUNE_BATCH)
    decide(store, "new", "f" * 64, time.time())
    kept = [f"old_{index}" for index in range(PRUNE_BATCH, 3 * PRUNE_BATCH)]
    assert [d.run_id for d in store.decisions("d", "s")] == [*kept, "new"]
    # The pre-images only the forgotten decisions named went with them.
    assert rows(store, pre_images.c.base_key) == [
        f"{i:064d}" for i in range(PRUNE_BATCH, 3 * PRUNE_BATCH)
    ] + ["f" * 64]


def test_a_pre_image_another_decision_still_names_is_kept(store: StepCacheStore):
    long_ago = make_old(store, PRUNE_BATCH)
    shared = f"{0:064d}"
    decide(store, "recent_use", shared, time.time() - 60)  # names the oldest decision's pre-image
    with store.engine.begin() as connection:  # its time of use aside: a decision names it
        connection.execute(
            pre_images.update().where(pre_images.c.base_key == shared).values(used_at=long_ago)
        )
    decide(store, "new", "f" * 64, time.time())
    assert [d.run_id for d in store.decisions("d", "s")] == ["recent_use", "new"]
    assert rows(store, pre_images.c.base_key) == [shared, "f" * 64]


def test_the_ttl_sweep_forgets_decisions_and_pre_images_past_the_ttl(store: StepCacheStore):
    make_old(store, 25)
    store.put_pre_image("e" * 64, {"version": 1})  # named by no decision
    with store.engine.begin() as connection:
        connection.execute(pre_images.update().where(pre_images.c.base_key == "e" * 64).values(used_at=0.0))
    with store.engine.begin() as connection:  # recorded now: no write prunes before the sweep
        connection.execute(
            decisions.insert().values(
                dag_id="d",
                run_id="new",
                step="s",
                decision="run",
                message="run",
                base_key=None,
                at=time.time(),
            )
        )
    assert store.sweep_expired(3600, batch=7) == 0
    assert [d.run_id for d in store.decisions("d", "s")] == ["new"]
    assert rows(store, pre_images.c.base_key) == []


def test_put_is_one_statement_and_replaces_an_entry_of_the_same_fingerprint(store: StepCacheStore):
    def entry(outputs: dict[str, Any]) -> CacheEntry:
        return CacheEntry("a" * 64, "b" * 64, "d", "s", {"version": 1}, {}, outputs, {"run_id": "r"}, 1.0)

    store.put(entry({"out": {"uri": "file:///first"}}))
    statements: list[str] = []

    def note(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        store.put(entry({"out": {"uri": "file:///second"}}))
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert len(statements) == 1 and "ON CONFLICT" in statements[0]
    assert [e.outputs for e in store.candidates("b" * 64)] == [{"out": {"uri": "file:///second"}}]


def test_the_portable_upsert_does_what_on_conflict_does(store: StepCacheStore):
    changed = ("used_at",)
    with store.engine.begin() as connection:
        _upsert(connection, pre_images, {"base_key": "a", "pre_image": "{}", "used_at": 1.0}, changed=changed)
        _update_or_insert(
            connection, pre_images, {"base_key": "b", "pre_image": "{}", "used_at": 1.0}, changed
        )
        _upsert(
            connection, pre_images, {"base_key": "a", "pre_image": "{2}", "used_at": 2.0}, changed=changed
        )
        _update_or_insert(
            connection, pre_images, {"base_key": "b", "pre_image": "{2}", "used_at": 2.0}, changed
        )
        found = connection.execute(select(pre_images).order_by(pre_images.c.base_key)).all()
    assert [tuple(row) for row in found] == [("a", "{}", 2.0), ("b", "{}", 2.0)]
