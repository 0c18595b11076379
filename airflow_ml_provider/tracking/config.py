"""Where runs are tracked: an MLflow tracking connection, or a SQLite store under AIRFLOW_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from airflow_ml_provider.caching.settings import SECTION
from airflow_ml_provider.settings import provider_home

DEFAULT_CONN_ID = "mlflow_default"
CONN_TYPE = "ml_tracking"


class TrackingUnavailableError(RuntimeError):
    """The tracking server could not be reached (after retries)."""


@dataclass(frozen=True)
class TrackingConfig:
    """A tracking URI for workers, a URL for browsers, and credentials for the script."""

    uri: str
    ui_url: str | None = None
    artifact_location: str | None = None
    credentials: dict[str, str] = field(default_factory=dict, repr=False)

    def run_url(self, experiment_id: str, run_id: str) -> str | None:
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def embedded() -> TrackingConfig:
    """No configuration at all: a SQLite tracking store and a local artifact folder."""
    home = provider_home()
    home.mkdir(parents=True, exist_ok=True)
    return TrackingConfig(
        uri=f"sqlite:///{home / 'mlflow.db'}",
        artifact_location=(home / "mlartifacts").as_uri(),
    )


def tracking_conn_id() -> str:
    return os.environ.get(f"AIRFLOW__{SECTION.upper()}__TRACKING_CONN_ID") or DEFAULT_CONN_ID


def resolve() -> TrackingConfig:
    """The tracking connection (type ``ml_tracking``), or the embedded store when there is none."""
    from airflow_ml_provider.hooks.tracking import TrackingHook

    return TrackingHook().get_config()
