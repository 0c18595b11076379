"""The provider's configuration: section ``[ml_pipelines]`` of the Airflow configuration, and
where the provider keeps its files when nothing is configured (under AIRFLOW_HOME).

Each key can also be set as ``AIRFLOW__ML_PIPELINES__<KEY>`` in the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def provider_home() -> Path:
    """``$AIRFLOW_HOME/ml``: the default datastore, step work folders, the step cache."""
    return airflow_home() / "ml"


SECTION = "ml_pipelines"


@dataclass(frozen=True)
class Option:
    """One key of ``[ml_pipelines]``: its type, its default (None: computed when unset, e.g. a
    path under AIRFLOW_HOME) and what it does."""

    type: str
    default: str | None
    description: str


# Every key of [ml_pipelines], declared once: the getters below read their defaults from here,
# and the provider info's ``config`` section declares them (so ``airflow config list`` shows them).
OPTIONS: dict[str, Option] = {
    "cache_url": Option(
        "string",
        None,
        "SQLAlchemy URL of the step cache (default: a SQLite file under $AIRFLOW_HOME/ml).",
    ),
    "lease_seconds": Option(
        "float", "300", "How long a lease lives without renewal: a dead holder's lease expires after this."
    ),
    "reuse_poke_seconds": Option(
        "float", "10", "How often a step waiting for another run's lease looks again."
    ),
    "cache_ttl_seconds": Option(
        "float",
        "0",
        "Cache entries older than this are not reused (0: no limit); also how long decisions are kept.",
    ),
    "verify_outputs": Option(
        "string",
        "size",
        "How a hit's outputs are checked: size (existence, size, file count) or digest (re-hash).",
    ),
    "compute_queue_seconds": Option(
        "float",
        "300",
        "How long DAG parsing trusts a compute target's remembered queue before reading its connection.",
    ),
    "module_version_seconds": Option(
        "float",
        "300",
        "How long DAG parsing trusts a module version it remembers before reading the module registry.",
    ),
    "on_cache_error": Option(
        "string",
        "fail",
        "fail: a step whose cache database is unusable fails with the way to recover; "
        "run_uncached: it runs without the cache, with a warning.",
    ),
    "state_file_mode": Option(
        "string", "0600", "Mode of the cache databases and the embedded MLflow store (octal)."
    ),
    "max_snapshot_files": Option("integer", "20000", "The most files a step's code snapshot may hold."),
    "max_snapshot_bytes": Option("integer", str(1 << 30), "The most bytes a step's code snapshot may hold."),
    "allowed_source_roots": Option(
        "string",
        "",
        "Folders outside the DAG folder that steps' code may come from (separated by the path separator).",
    ),
    "tracking_probe_seconds": Option(
        "float", "5", "How long the first call to an MLflow server may take before it is taken as down."
    ),
    "stat_cache_path": Option(
        "string", None, "The stat cache, a SQLite file on this machine (default: under $AIRFLOW_HOME/ml)."
    ),
    "tracking_conn_id": Option(
        "string", "mlflow_default", "The MLflow tracking connection (none defined: the embedded store)."
    ),
    "designer_folder": Option(
        "string", None, "Where the UI's pipeline designer opens and saves specs (default: the DAGs folder)."
    ),
    "run_server_idle_seconds": Option(
        "integer",
        "600",
        "airflow-ml run and airflow-ml status hand the command to a warm process per AIRFLOW_HOME, "
        "which exits after this many seconds without one. 0: no server, each command runs in its "
        "own process.",
    ),
}


def _option(key: str) -> str:
    """A key whose default is declared in OPTIONS."""
    default = OPTIONS[key].default
    assert default is not None, key
    return _get(key, default)


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
    return float(_option("lease_seconds"))


def reuse_poke_seconds() -> float:
    """How often a step waiting for another run's lease looks again."""
    return float(_option("reuse_poke_seconds"))


def cache_ttl_seconds() -> float | None:
    """Entries older than this are not reused (unset or 0: no limit)."""
    value = float(_option("cache_ttl_seconds"))
    return value or None


def decision_retention_seconds() -> float:
    """How long re-run/reuse decisions are kept for explanations: the TTL, else 30 days."""
    return cache_ttl_seconds() or 30 * 24 * 3600.0


def verify_outputs() -> str:
    """``size`` (cheap: existence, size, file count) or ``digest`` (re-hash every output)."""
    return _option("verify_outputs")


def compute_queue_seconds() -> float:
    """How long DAG parsing trusts a compute target's remembered queue before reading its connection."""
    return float(_option("compute_queue_seconds"))


def module_version_seconds() -> float:
    """How long DAG parsing trusts a module version it remembers before reading the module registry."""
    return float(_option("module_version_seconds"))


def on_cache_error() -> str:
    """``fail`` (default): a step whose cache database is unusable fails with the way to recover;
    ``run_uncached``: it runs without the cache, with a warning."""
    return _option("on_cache_error")


def state_file_mode() -> str:
    """Mode of the cache databases and the embedded MLflow store (octal; folders get x where r)."""
    return _option("state_file_mode")


def max_snapshot_files() -> int:
    """The most files a step's code snapshot (``source_directory``) may hold."""
    return int(_option("max_snapshot_files"))


def max_snapshot_bytes() -> int:
    """The most bytes a step's code snapshot may hold (default 1 GiB)."""
    return int(_option("max_snapshot_bytes"))


def allowed_source_roots() -> list[str]:
    """Folders outside the DAG folder that steps' code may come from (``os.pathsep``-separated)."""
    return [root for root in _option("allowed_source_roots").split(os.pathsep) if root.strip()]


def tracking_probe_seconds() -> float:
    """How long the first call to an MLflow server may take before it is taken as down."""
    return float(_option("tracking_probe_seconds"))


def stat_cache_path() -> str:
    """The stat cache: a SQLite file on this machine (it maps inodes, meaningless elsewhere)."""
    return _get("stat_cache_path", str(provider_home() / "stat-cache.db"))


def tracking_conn_id() -> str:
    """The MLflow tracking connection's id."""
    return _option("tracking_conn_id")
