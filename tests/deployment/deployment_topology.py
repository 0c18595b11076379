"""The deployment of docker-compose.yaml, as the native end-to-end test runs it.

Both read deploy/airflow.env (settings), deploy/connections.json (connections) and
deploy/postgres-init.sql (databases); the native test replaces the compose service addresses
with the loopback ports of the processes it starts, and the image's DAG folder with its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_FILE = REPO / "deploy" / "airflow.env"
CONNECTIONS_FILE = REPO / "deploy" / "connections.json"
DATABASES_FILE = REPO / "deploy" / "postgres-init.sql"
DAGS_IN_IMAGE = "/opt/airflow/dags"
METADATA_DATABASE = "airflow"  # POSTGRES_DB in docker-compose.yaml
BUCKETS = ("ml-lake", "mlflow")  # created by the s3-buckets service

# Airflow's components: the compose service and the ``airflow`` command it runs.
AIRFLOW_COMPONENTS: dict[str, tuple[str, ...]] = {
    "airflow-apiserver": ("api-server",),
    "airflow-scheduler": ("scheduler",),
    "airflow-dag-processor": ("dag-processor",),
    "airflow-triggerer": ("triggerer",),
    "airflow-worker": ("celery", "worker", "--queues", "default", "--celery-hostname", "default@%h"),
    "airflow-worker-gpu": ("celery", "worker", "--queues", "gpu", "--celery-hostname", "gpu@%h"),
}
# The other services, by the address Airflow's settings name them with.
SERVICES = {"postgres": "postgres:5432", "redis": "redis:6379", "s3": "s3:9000", "mlflow": "mlflow:5000"}
API_SERVER = "airflow-apiserver:8080"
# What browsers open: the ports docker-compose.yaml publishes.
PUBLISHED = {"mlflow": "localhost:5000", "airflow-apiserver": "localhost:8080"}


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines, as docker-compose reads an env_file (no quotes, no interpolation)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def databases(path: Path = DATABASES_FILE) -> list[str]:
    """The databases created beside the metadata database."""
    return re.findall(r"CREATE DATABASE (\w+);", path.read_text(), flags=re.IGNORECASE)


class Localiser:
    """Rewrites the deployment's files for processes on this machine.

    ``addresses`` maps a compose address (``redis:6379``) to a native one (``127.0.0.1:41234``);
    databases on ``postgres:5432`` get ``database_prefix`` so that runs never share one.
    """

    def __init__(self, addresses: dict[str, str], database_prefix: str, dags_folder: Path) -> None:
        self.addresses = addresses
        self.database_prefix = database_prefix
        self.dags_folder = dags_folder

    def text(self, text: str) -> str:
        postgres = re.escape(SERVICES["postgres"])
        text = re.sub(
            rf"@{postgres}/(\w+)",
            lambda match: f"@{self.addresses[SERVICES['postgres']]}/{self.database(match.group(1))}",
            text,
        )
        for compose, native in self.addresses.items():
            text = text.replace(compose, native)
        return text.replace(DAGS_IN_IMAGE, str(self.dags_folder))

    def database(self, name: str) -> str:
        return f"{self.database_prefix}{name}"

    def environment(self) -> dict[str, str]:
        return {key: self.text(value) for key, value in read_env_file().items()}

    def connections(self) -> dict[str, Any]:
        return dict(json.loads(self.text(CONNECTIONS_FILE.read_text())))
