"""The MLflow tracking connection: tracking URI, browser URL, credentials."""

from __future__ import annotations

from typing import Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_ml_provider.connection_types import OLD_TRACKING_TYPE, TRACKING_TYPE
from airflow_ml_provider.hooks.connections import get_connection, warn_deprecated_type
from airflow_ml_provider.hooks.datastore import connection_fields
from airflow_ml_provider.hooks.tracking_config import TrackingConfig, embedded
from airflow_ml_provider.hooks.tracking_config import tracking_conn_id as configured_conn_id
from airflow_ml_provider.hooks.tracking_credentials import secured


class TrackingHook(BaseHook):
    """Resolves the tracking connection (``mlflow_default`` unless configured otherwise).

    With no such connection, runs are tracked in a SQLite store under AIRFLOW_HOME.
    """

    conn_name_attr = "tracking_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = TRACKING_TYPE
    hook_name = "ML Tracking (MLflow)"

    def __init__(self, tracking_conn_id: str | None = None) -> None:
        super().__init__()
        self.tracking_conn_id = tracking_conn_id or configured_conn_id()

    def get_config(self) -> TrackingConfig:
        try:
            connection = get_connection(self.tracking_conn_id)
        except AirflowNotFoundException:
            return embedded()
        if connection.conn_type == OLD_TRACKING_TYPE:
            warn_deprecated_type(self.tracking_conn_id, OLD_TRACKING_TYPE, TRACKING_TYPE)
        extra: dict[str, Any] = connection_fields(connection.extra_dejson, connection.conn_type)
        uri = extra.get("tracking_uri") or connection.host or ""
        if connection.port and uri.startswith("http") and f":{connection.port}" not in uri:
            uri = f"{uri.rstrip('/')}:{connection.port}"
        credentials = {}
        if connection.login:
            credentials["MLFLOW_TRACKING_USERNAME"] = connection.login
        if connection.password:
            credentials["MLFLOW_TRACKING_PASSWORD"] = connection.password
        if extra.get("token"):
            credentials["MLFLOW_TRACKING_TOKEN"] = str(extra["token"])
        config = TrackingConfig(
            uri=uri,
            ui_url=extra.get("ui_url") or (uri if uri.startswith("http") else None),
            artifact_location=extra.get("artifact_location"),
            credentials=credentials,
        )
        return secured(config)
