"""The provider's database: one engine per file for the step cache, the endpoints and the watch
state, with the file's damage named whichever of them meets it first."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ml_provider import provider_db
from airflow_ml_provider.caching.store import StepCacheDamagedError, StepCacheStore
from airflow_ml_provider.endpoints.store import EndpointStore
from airflow_ml_provider.triggers.watch_state import WatchState


def test_the_step_cache_endpoints_and_watches_share_one_engine_per_file(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    engines = {id(StepCacheStore(url).engine), id(EndpointStore(url).engine), id(WatchState(url).engine)}
    assert engines == {id(provider_db.engine(url))}


def test_a_damaged_file_is_named_to_the_endpoints_too(tmp_path: Path):
    database = tmp_path / "provider.db"
    url = f"sqlite:///{database}"
    database.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(StepCacheDamagedError, match=f"the step cache database {database} is damaged"):
        EndpointStore(url)
    provider_db.engine(url).dispose()


def test_a_commit_does_not_wait_for_the_disk_but_the_file_stays_consistent(tmp_path: Path):
    # WAL with synchronous=NORMAL: no sync at each commit (a reuse hit's decision record), the
    # file is synced at checkpoints; WAL keeps it consistent after any crash.
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    with provider_db.engine(url).connect() as connection:
        assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL
    provider_db.engine(url).dispose()
