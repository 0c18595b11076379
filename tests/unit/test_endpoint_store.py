"""Endpoints and versions in the SQL store: numbering, the default version, disabling, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ml_provider.endpoints.store import EndpointError, EndpointStore


def _publish(store: EndpointStore, digest: str, dag_version: int, dag_id: str = "wine") -> tuple[int, bool]:
    version, new = store.publish(
        "scoring",
        dag_id=dag_id,
        dag_version=dag_version,
        bundle_name="dags-folder",
        bundle_version=None,
        pipeline_digest=digest,
    )
    return version.version, new


def test_versions_are_numbered_and_unchanged_code_is_not_a_new_version(tmp_path: Path) -> None:
    store = EndpointStore(f"sqlite:///{tmp_path / 'endpoints.db'}")
    assert _publish(store, "a" * 64, 3) == (1, True)
    assert _publish(store, "a" * 64, 3) == (1, False)
    assert _publish(store, "b" * 64, 3) == (2, True)  # step code changed, same DAG version
    assert _publish(store, "b" * 64, 4) == (3, True)
    assert [v.version for v in store.versions("scoring")] == [1, 2, 3]
    # The first version stays the default until another is chosen.
    assert store.version("scoring").version == 1
    store.set_default("scoring", 3)
    assert store.version("scoring").pipeline_digest == "b" * 64
    assert store.version("scoring", 2).dag_version == 3


def test_mistakes_say_what_exists(tmp_path: Path) -> None:
    store = EndpointStore(f"sqlite:///{tmp_path / 'endpoints.db'}")
    with pytest.raises(EndpointError, match='no endpoint "scoring" \\(endpoints: none yet\\)'):
        store.version("scoring")
    _publish(store, "a" * 64, 1)
    with pytest.raises(EndpointError, match='endpoint "scoring" has no version 7 \\(versions: 1\\)'):
        store.set_default("scoring", 7)
    with pytest.raises(EndpointError, match='publishes pipeline "wine", not "other"'):
        _publish(store, "c" * 64, 1, dag_id="other")
    assert store.set_disabled("scoring", True).disabled
    assert not store.set_disabled("scoring", False).disabled


def test_a_database_the_endpoint_store_creates_is_private(tmp_path: Path) -> None:
    """It is the step cache's file too (same URL by default): 0600 in a 0700 folder."""
    import stat

    database = tmp_path / "home" / "ml" / "step-cache.db"
    EndpointStore(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
