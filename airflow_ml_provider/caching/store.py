"""The step cache: entries, leases and decisions in a SQL database (SQLAlchemy Core).

SQLite under AIRFLOW_HOME by default; PostgreSQL (or any SQLAlchemy URL) through
``[ml_pipelines] cache_url``.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    make_url,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from airflow_ml_provider import provider_db, settings
from airflow_ml_provider.handoff import ResultOrigin

# The step cache's file is the provider database's: its damage and recovery are named there.
from airflow_ml_provider.provider_db import StepCacheDamagedError as StepCacheDamagedError
from airflow_ml_provider.provider_db import set_aside_damaged as set_aside_damaged
from airflow_ml_provider.provider_db import sqlite_file

metadata = MetaData()

entries = Table(
    "ml_step_cache_entry",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("base_key", String(64), nullable=False, index=True),
    Column("dag_id", String(250), nullable=False, index=True),
    Column("step", String(250), nullable=False),
    Column("pre_image", Text, nullable=False),
    Column("modules", Text, nullable=False),
    Column("outputs", Text, nullable=False),
    Column("produced_by", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

leases = Table(
    "ml_step_cache_lease",
    metadata,
    Column("base_key", String(64), primary_key=True),
    Column("holder", String(1000), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# One row per base key: decisions and the run task's claim name a pre-image by its digest.
pre_images = Table(
    "ml_step_cache_pre_image",
    metadata,
    Column("base_key", String(64), primary_key=True),
    Column("pre_image", Text, nullable=False),
    Column("used_at", Float, nullable=False, index=True),
)

decisions = Table(
    "ml_step_cache_decision",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dag_id", String(250), nullable=False, index=True),
    Column("run_id", String(250), nullable=False),
    Column("step", String(250), nullable=False),
    Column("decision", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("base_key", String(64)),
    Column("pre_image", Text),
    Column("at", Float, nullable=False),
)

# A SQLite store's user_version once its tables and indexes are these: raise it when they change.
SCHEMA_VERSION = 2

# For a store of millions of rows: a step's newest entry (explanations), entries by age (the TTL
# sweep), a step's decisions by age (explanations), decisions by age (pruning) and decisions by
# pre-image (pre-image pruning).
Index("ml_step_cache_entry_step_age", entries.c.dag_id, entries.c.step, entries.c.created_at)
Index("ml_step_cache_entry_age", entries.c.created_at)
Index("ml_step_cache_decision_step_age", decisions.c.dag_id, decisions.c.step, decisions.c.at)
Index("ml_step_cache_decision_age", decisions.c.at)
Index("ml_step_cache_decision_pre_image", decisions.c.base_key)

# Decisions past their retention that one write forgets (oldest first, with the pre-images only
# they named): a write stays short however many are due, and since each write adds one decision,
# what is due still drains. The TTL sweep forgets them in bulk.
PRUNE_BATCH = 10


@dataclass(frozen=True)
class CacheEntry:
    fingerprint: str
    base_key: str
    dag_id: str
    step: str
    pre_image: dict[str, Any]
    modules: dict[str, str]
    outputs: dict[str, dict[str, Any]]
    produced_by: dict[str, Any]
    created_at: float

    @property
    def origin(self) -> ResultOrigin:
        """The attempt (and MLflow run) that produced the result."""
        return ResultOrigin.from_json(self.produced_by)


@dataclass(frozen=True)
class Decision:
    dag_id: str
    run_id: str
    step: str
    decision: str
    message: str
    base_key: str | None
    pre_image: dict[str, Any] | None
    at: float


def _upsert(
    connection: Connection, table: Table, values: dict[str, Any], *, changed: tuple[str, ...]
) -> None:
    """Insert a row, or set ``changed`` in the row of its primary key: one statement where the
    database has ON CONFLICT (PostgreSQL, SQLite)."""
    dialect = connection.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        _update_or_insert(connection, table, values, changed)
        return
    statement = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table).values(values)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={name: statement.excluded[name] for name in changed},
        )
    )


def _update_or_insert(
    connection: Connection, table: Table, values: dict[str, Any], changed: tuple[str, ...]
) -> None:
    """``_upsert`` in portable statements."""
    key = [column == values[column.name] for column in table.primary_key.columns]
    change = update(table).where(*key).values({name: values[name] for name in changed})
    if connection.execute(change).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(insert(table).values(values))
    except IntegrityError:  # inserted meanwhile by a parallel writer
        connection.execute(change)


def _put_pre_image(connection: Connection, base: str, pre_image: dict[str, Any], used_at: float) -> None:
    # A parallel step may store the same pre-image (its digest is its key): then only mark it used.
    _upsert(
        connection,
        pre_images,
        {"base_key": base, "pre_image": json.dumps(pre_image, sort_keys=True), "used_at": used_at},
        changed=("used_at",),
    )


def _prune(connection: Connection, cutoff: float, batch: int) -> int:
    """Forget up to ``batch`` decisions older than ``cutoff`` (oldest first) and the pre-images
    only they named; returns how many decisions. Rows another writer is pruning are skipped."""
    due = connection.execute(
        select(decisions.c.id, decisions.c.base_key)
        .where(decisions.c.at < cutoff)
        .order_by(decisions.c.at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    connection.execute(delete(decisions).where(decisions.c.id.in_([row.id for row in due])))
    named = {row.base_key for row in due if row.base_key}
    if named:
        connection.execute(
            delete(pre_images).where(
                pre_images.c.base_key.in_(named), pre_images.c.used_at < cutoff, _unnamed()
            )
        )
    return len(due)


def _unnamed() -> Any:
    """A pre-image that no decision names any more (entries keep their own)."""
    return ~select(decisions.c.id).where(decisions.c.base_key == pre_images.c.base_key).exists()


def _entry(row: Any) -> CacheEntry:
    return CacheEntry(
        row.fingerprint,
        row.base_key,
        row.dag_id,
        row.step,
        json.loads(row.pre_image),
        json.loads(row.modules),
        json.loads(row.outputs),
        json.loads(row.produced_by),
        row.created_at,
    )


def _engine(url: str) -> Engine:
    """The provider database's engine, with the step cache's tables and indexes."""
    engine = provider_db.engine(url)
    _schema(engine, sqlite_file(url) is not None)
    return engine


@cache
def _schema(engine: Engine, sqlite: bool) -> None:
    # A SQLite file already at this schema needs no checks: every task process opens the store,
    # and checking each table and index costs tens of milliseconds on a busy machine.
    if sqlite and _sqlite_schema(engine) == SCHEMA_VERSION:
        return
    metadata.create_all(engine)
    # create_all adds indexes only with new tables; a store made by an older version gets them here
    # (once: on PostgreSQL, building one over millions of rows holds writes for seconds).
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    if sqlite:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"pragma user_version = {SCHEMA_VERSION}")


def _sqlite_schema(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("pragma user_version").scalar() or 0)


def unreachable_store(error: Exception) -> str:
    """An unreachable cache database in words, without the password of its URL."""
    location = make_url(settings.cache_url()).render_as_string(hide_password=True)
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
    return (
        f"the step cache database {location} cannot be used ({cause}). Check [ml_pipelines] "
        "cache_url, or set on_cache_error = run_uncached to run steps without the cache meanwhile"
    )


class StepCacheStore:
    """Entries by fingerprint, one lease per base key, and the decisions made."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = _engine(url or settings.cache_url())

    # entries
    def candidates(self, base: str) -> list[CacheEntry]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(entries).where(entries.c.base_key == base).order_by(entries.c.created_at.desc())
            )
            return [_entry(row) for row in rows]

    def latest(self, dag_id: str, step: str, *, before: float | None = None) -> CacheEntry | None:
        query = select(entries).where(entries.c.dag_id == dag_id, entries.c.step == step)
        if before is not None:
            query = query.where(entries.c.created_at < before)
        with self.engine.connect() as connection:
            row = connection.execute(query.order_by(entries.c.created_at.desc()).limit(1)).first()
        return _entry(row) if row is not None else None

    def put(self, entry: CacheEntry) -> None:
        with self.engine.begin() as connection:
            _upsert(
                connection,
                entries,
                {
                    "fingerprint": entry.fingerprint,
                    "base_key": entry.base_key,
                    "dag_id": entry.dag_id,
                    "step": entry.step,
                    "pre_image": json.dumps(entry.pre_image, sort_keys=True),
                    "modules": json.dumps(entry.modules, sort_keys=True),
                    "outputs": json.dumps(entry.outputs, sort_keys=True),
                    "produced_by": json.dumps(entry.produced_by, sort_keys=True),
                    "created_at": entry.created_at,
                },
                changed=tuple(column.name for column in entries.columns if not column.primary_key),
            )

    def list_entries(
        self,
        dag_id: str | None = None,
        step: str | None = None,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[CacheEntry]:
        """Entries by DAG, step and age; ``limit`` of them after the entry of fingerprint ``after``.

        Pages are read through the index (no offset), so the last page of millions costs what
        the first does.
        """
        order = (entries.c.dag_id, entries.c.step, entries.c.created_at, entries.c.fingerprint)
        query = select(entries).order_by(*order)
        if dag_id:
            query = query.where(entries.c.dag_id == dag_id)
        if step:
            query = query.where(entries.c.step == step)
        with self.engine.connect() as connection:
            if after:
                last = connection.execute(select(*order).where(entries.c.fingerprint == after)).first()
                if last is None:
                    return []
                query = query.where(tuple_(*order) > tuple_(*last))
            if limit:
                query = query.limit(limit)
            return [_entry(row) for row in connection.execute(query)]

    def sweep_expired(self, ttl_seconds: float, *, batch: int = 1000, now: float | None = None) -> int:
        """Delete the entries and decisions older than the TTL, ``batch`` per transaction; returns
        how many entries.

        Each transaction is short and locks only its own rows, so lookups and new results go on
        while millions of entries are swept.
        """
        cutoff = (time.time() if now is None else now) - ttl_seconds
        removed = self._delete_in_batches(entries.c.fingerprint, [entries.c.created_at < cutoff], batch)
        while True:
            with self.engine.begin() as connection:
                if _prune(connection, cutoff, batch) < batch:
                    break
        # Pre-images past the TTL that no decision names: stored without one, or still in use when
        # the last decision naming them was pruned.
        self._delete_in_batches(pre_images.c.base_key, [pre_images.c.used_at < cutoff, _unnamed()], batch)
        return removed

    def _delete_in_batches(self, key: Column[Any], where: list[Any], batch: int) -> int:
        """Delete the rows ``where`` says, ``batch`` per transaction; returns how many."""
        removed = 0
        while True:
            chosen = select(key).where(*where).limit(batch).scalar_subquery()
            with self.engine.begin() as connection:
                count = int(connection.execute(delete(key.table).where(key.in_(chosen))).rowcount or 0)
            removed += count
            if count < batch:
                return removed

    def clear(
        self, dag_id: str | None = None, step: str | None = None, fingerprint: str | None = None
    ) -> int:
        query = delete(entries)
        if dag_id:
            query = query.where(entries.c.dag_id == dag_id)
        if step:
            query = query.where(entries.c.step == step)
        if fingerprint:
            query = query.where(entries.c.fingerprint.startswith(fingerprint))
        with self.engine.begin() as connection:
            return int(connection.execute(query).rowcount or 0)

    # leases
    def try_lease(self, base: str, holder: str, seconds: float) -> str | None:
        """Take (or renew) the lease on ``base``; None if taken, else the current holder."""
        now = time.time()
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(leases).values(base_key=base, holder=holder, expires_at=now + seconds)
                )
            return None
        except IntegrityError:
            pass
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(leases)
                .where(leases.c.base_key == base)
                .where((leases.c.expires_at < now) | (leases.c.holder == holder))
                .values(holder=holder, expires_at=now + seconds)
            ).rowcount
            if taken:
                return None
            row = connection.execute(select(leases.c.holder).where(leases.c.base_key == base)).first()
        return row.holder if row is not None else self.try_lease(base, holder, seconds)

    def live_holder(self, base: str) -> str | None:
        """Who holds a live lease on ``base`` now (None: free, or its holder's lease expired)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(leases.c.holder).where(leases.c.base_key == base, leases.c.expires_at >= time.time())
            ).first()
        return row.holder if row is not None else None

    def renew_lease(self, base: str, holder: str, seconds: float) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    update(leases)
                    .where(leases.c.base_key == base, leases.c.holder == holder)
                    .values(expires_at=time.time() + seconds)
                ).rowcount
            )

    def release_lease(self, base: str, holder: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(leases).where(leases.c.base_key == base, leases.c.holder == holder))

    # pre-images
    def put_pre_image(self, base: str, pre_image: dict[str, Any]) -> None:
        """Keep the pre-image of ``base`` once (its digest is its key); mark it used now."""
        with self.engine.begin() as connection:
            _put_pre_image(connection, base, pre_image, time.time())

    def pre_image(self, base: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(pre_images.c.pre_image).where(pre_images.c.base_key == base)
            ).first()
        return json.loads(row.pre_image) if row is not None else None

    # decisions
    def record(self, decision: Decision) -> None:
        """Record a decision (its pre-image by digest), and forget a few past their retention.

        One transaction: each commit is a sync to disk, the larger part of a reuse hit's write."""
        with self.engine.begin() as connection:
            if decision.base_key and decision.pre_image is not None:
                # Used when decided: forgotten with the last decision that names it.
                _put_pre_image(connection, decision.base_key, decision.pre_image, decision.at)
            connection.execute(
                insert(decisions).values(
                    dag_id=decision.dag_id,
                    run_id=decision.run_id,
                    step=decision.step,
                    decision=decision.decision,
                    message=decision.message,
                    base_key=decision.base_key,
                    pre_image=None,
                    at=decision.at,
                )
            )
            _prune(connection, time.time() - settings.decision_retention_seconds(), PRUNE_BATCH)

    def decisions(self, dag_id: str, step: str, run_id: str | None = None) -> list[Decision]:
        query = (
            select(decisions, pre_images.c.pre_image.label("stored_pre_image"))
            .select_from(decisions.outerjoin(pre_images, decisions.c.base_key == pre_images.c.base_key))
            .where(decisions.c.dag_id == dag_id, decisions.c.step == step)
        )
        if run_id:
            query = query.where(decisions.c.run_id == run_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(decisions.c.at))
            return [
                Decision(
                    row.dag_id,
                    row.run_id,
                    row.step,
                    row.decision,
                    row.message,
                    row.base_key,
                    _pre_image_of(row),
                    row.at,
                )
                for row in rows
            ]

    def reuses(self, dag_id: str | None = None) -> dict[str, tuple[int, float]]:
        """Per base key: how many times a result was reused, and when last."""
        query = (
            select(decisions.c.base_key, func.count(), func.max(decisions.c.at))
            .where(decisions.c.decision == "reused")
            .group_by(decisions.c.base_key)
        )
        if dag_id:
            query = query.where(decisions.c.dag_id == dag_id)
        with self.engine.connect() as connection:
            return {row[0]: (int(row[1]), float(row[2])) for row in connection.execute(query)}


def _pre_image_of(row: Any) -> dict[str, Any] | None:
    """A decision's pre-image: by its digest (older rows held their own copy)."""
    text = row.stored_pre_image or row.pre_image
    return json.loads(text) if text else None
