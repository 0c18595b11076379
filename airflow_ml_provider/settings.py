"""The provider's configuration: section ``[ml_pipelines]`` of the Airflow configuration, and
where the provider keeps its files when nothing is configured (under AIRFLOW_HOME).

Each key can also be set as ``AIRFLOW__ML_PIPELINES__<KEY>`` in the environment.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def provider_home() -> Path:
    """``$AIRFLOW_HOME/ml``: the default datastore, step work folders, the step cache."""
    return airflow_home() / "ml"


SECTION = "ml_pipelines"


def _get(key: str, default: str) -> str:
    value = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{key.upper()}")
    if value:
        return value
    return _from_config_file(key, default)


@cache
def _from_config_file(key: str, default: str) -> str:
    """Read once per process: a parse asks for the same keys for every step."""
    try:
        from airflow.configuration import conf

        return str(conf.get(SECTION, key, fallback=default))
    except ImportError:
        return default


def cache_url() -> str:
    """SQLAlchemy URL of the step cache; a SQLite file under AIRFLOW_HOME by default."""
    return _get("cache_url", f"sqlite:///{provider_home() / 'step-cache.db'}")


def lease_seconds() -> float:
    """How long a lease lives without renewal: a dead holder's lease expires after this."""
    return float(_get("lease_seconds", "300"))


def reuse_poke_seconds() -> float:
    """How often a step waiting for another run's lease looks again."""
    return float(_get("reuse_poke_seconds", "10"))


def cache_ttl_seconds() -> float | None:
    """Entries older than this are not reused (unset or 0: no limit)."""
    value = float(_get("cache_ttl_seconds", "0"))
    return value or None


def decision_retention_seconds() -> float:
    """How long re-run/reuse decisions are kept for explanations: the TTL, else 30 days."""
    return cache_ttl_seconds() or 30 * 24 * 3600.0


def verify_outputs() -> str:
    """``size`` (cheap: existence, size, file count) or ``digest`` (re-hash every output)."""
    return _get("verify_outputs", "size")


def compute_queue_seconds() -> float:
    """How long DAG parsing trusts a compute target's remembered queue before reading its connection."""
    return float(_get("compute_queue_seconds", "300"))


def on_cache_error() -> str:
    """``fail`` (default): a step whose cache database is unusable fails with the way to recover;
    ``run_uncached``: it runs without the cache, with a warning."""
    return _get("on_cache_error", "fail")


def state_file_mode() -> str:
    """Mode of the cache databases and the embedded MLflow store (octal; folders get x where r)."""
    return _get("state_file_mode", "0600")


def max_snapshot_files() -> int:
    """The most files a step's code snapshot (``source_directory``) may hold."""
    return int(_get("max_snapshot_files", "20000"))


def max_snapshot_bytes() -> int:
    """The most bytes a step's code snapshot may hold (default 1 GiB)."""
    return int(_get("max_snapshot_bytes", str(1 << 30)))


def allowed_source_roots() -> list[str]:
    """Folders outside the DAG folder that steps' code may come from (``os.pathsep``-separated)."""
    return [root for root in _get("allowed_source_roots", "").split(os.pathsep) if root.strip()]


def tracking_probe_seconds() -> float:
    """How long the first call to an MLflow server may take before it is taken as down."""
    return float(_get("tracking_probe_seconds", "5"))


def stat_cache_path() -> str:
    """The stat cache: a SQLite file on this machine (it maps inodes, meaningless elsewhere)."""
    return _get("stat_cache_path", str(provider_home() / "stat-cache.db"))
