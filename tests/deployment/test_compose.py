"""docker-compose.yaml is a valid file (Debian's docker-compose) and describes the topology that
the native deployment test runs: the same Airflow components and queues, the same settings,
connections and databases. Images cannot be pulled on this machine, so the file is checked, not run.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml
from deployment_topology import (
    AIRFLOW_COMPONENTS,
    BUCKETS,
    CONNECTIONS_FILE,
    METADATA_DATABASE,
    REPO,
    SERVICES,
    databases,
    read_env_file,
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "compose.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(yaml.safe_load(result.stdout))


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def test_airflow_components_are_the_ones_the_native_test_starts(compose: dict[str, Any]):
    services = compose["services"]
    airflow = {name: s for name, s in services.items() if s.get("image") == "airflow-ml-provider:latest"}
    assert set(airflow) == {*AIRFLOW_COMPONENTS, "airflow-init"}
    for name, command in AIRFLOW_COMPONENTS.items():
        assert tuple(_command(airflow[name])) == command, name
    assert set(services) - set(airflow) == {*SERVICES, "s3-buckets"}


def test_every_airflow_service_reads_the_shared_settings(compose: dict[str, Any]):
    shared = read_env_file()
    for name in [*AIRFLOW_COMPONENTS, "airflow-init"]:
        environment = compose["services"][name]["environment"]
        assert {key: environment.get(key) for key in shared} == shared, name
        # The secrets every component must agree on are set for all of them alike.
        assert environment["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    mlflow = compose["services"]["mlflow"]
    assert "$MLFLOW_BACKEND_STORE_URI" in " ".join(_command(mlflow))
    assert "$MLFLOW_ARTIFACTS_DESTINATION" in " ".join(_command(mlflow))


def test_databases_buckets_and_connections(compose: dict[str, Any]):
    services = compose["services"]
    assert services["postgres"]["environment"]["POSTGRES_DB"] == METADATA_DATABASE
    assert set(databases()) == {"mlflow", "ml_step_cache"}
    buckets = " ".join(_command(services["s3-buckets"]))
    assert all(f"store/{bucket}" in buckets for bucket in BUCKETS)
    assert ":RELEASE." in services["s3"]["image"]  # a pinned release, not latest
    connections = json.loads(CONNECTIONS_FILE.read_text())
    assert connections["default"]["host"].startswith("s3://")  # outputs every worker can read
    assert connections["gpu"] == {
        **connections["gpu"],
        "conn_type": "mlcomputelocal",
        "extra": {"queue": "gpu"},
    }
    assert connections["mlflow_default"]["extra"]["ui_url"] == "http://localhost:5000"
    # The browser URL of the run links is the port compose publishes.
    assert {(str(p["published"]), str(p["target"])) for p in services["mlflow"]["ports"]} == {
        ("5000", "5000")
    }


def test_the_image_keeps_airflows_version():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM ${AIRFLOW_IMAGE} AS airflow" in dockerfile
    assert "ARG AIRFLOW_IMAGE=apache/airflow:" in dockerfile
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in dockerfile
