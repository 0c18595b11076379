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
