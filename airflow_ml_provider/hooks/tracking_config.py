"""Where runs are tracked: an MLflow tracking connection, or a SQLite store under AIRFLOW_HOME."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from airflow_ml_provider import settings
from airflow_ml_provider.private import private_file, private_folder
from airflow_ml_provider.settings import provider_home

DEFAULT_CONN_ID = "mlflow_default"


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

    def run_link(self, run_id: str) -> str | None:
        """A run's page without its experiment id (MLflow's UI finds the run by its id)."""
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/runs/{run_id}"


# Where the provider's UI plugin serves the embedded store's MLflow UI, under the Airflow API server.
PLUGIN_PATH = "/ml-pipelines"
MLFLOW_UI_PATH = f"{PLUGIN_PATH}/mlflow/"


def airflow_url(path: str) -> str:
    """``path`` under the API server's ``[api] base_url`` (root-relative when it is not set)."""
    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback=None)
    except ImportError:
        base = None
    return (base or "").rstrip("/") + path


def embedded() -> TrackingConfig:
    """No configuration at all: a SQLite tracking store and a local artifact folder; the run
    links open the MLflow UI that the provider's plugin serves under the Airflow API server."""
    home = provider_home()
    # Runs hold parameter values and metrics: private to the worker's user, like the caches.
    database = private_file(home / "mlflow.db")
    artifacts = private_folder(home / "mlartifacts")
    return TrackingConfig(
        uri=f"sqlite:///{database}",
        ui_url=airflow_url(MLFLOW_UI_PATH),
        artifact_location=artifacts.as_uri(),
    )


def tracking_conn_id() -> str:
    return settings.tracking_conn_id()


def resolve() -> TrackingConfig:
    """The tracking connection (type ``mltracking``), or the embedded store when there is none."""
    from airflow_ml_provider.hooks.tracking import TrackingHook

    return TrackingHook().get_config()


def local_store_folder(uri: str | None) -> Path | None:
    """The folder of a tracking store on the worker's disk (with the embedded store's artifacts).

    ``sqlite:////abs/mlflow.db`` gives the database's folder; ``file:///abs`` or a bare path the
    store itself. A server (``http(s)://``, ``databricks``) gives None.
    """
    if not uri:
        return None
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///").split("?", 1)[0])
        return database.parent if database.is_absolute() else None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if not parsed.scheme and Path(uri).is_absolute():
        return Path(uri)
    return None
