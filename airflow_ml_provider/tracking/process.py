"""What a worker process keeps for MLflow, all in one place.

MLflow's client reads its credentials and its HTTP retry settings from the process's
environment (as its fluent API keeps the active run in the process): ``use_tracking`` sets
them, for the tracking connection the process talks to. Experiment ids and the parent run id
of a DAG run never change once known, so the process remembers them (many steps of one DAG run
share them); ``forget`` drops what it remembers.
"""

from __future__ import annotations

import os

from airflow_ml_provider.hooks.tracking_config import TrackingConfig

# A tracking call gives up after a few quick retries instead of MLflow's default minutes.
CLIENT_RETRY_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}

# (tracking URI, experiment name) -> experiment id
experiment_ids: dict[tuple[str, str], str] = {}
# (tracking URI, experiment id, DAG id, DAG run id) -> the DAG run's parent run id
parent_run_ids: dict[tuple[str, str, str, str], str] = {}


def use_tracking(config: TrackingConfig) -> None:
    """Set the environment MLflow's client reads: retry limits (unless set) and the credentials."""
    for key, value in CLIENT_RETRY_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.update(config.credentials)


def forget() -> None:
    experiment_ids.clear()
    parent_run_ids.clear()
