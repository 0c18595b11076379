"""A connection form of the provider's types saves only what was set, in a real API server.

Airflow's UI sends every field of the form, the untouched ones as null; the requests below are
the ones it sends (seen in Chromium: a Docker compute target with Image and Queue filled in).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_processes import AirflowProcesses, airflow_processes

from airflow_ml_provider.compute_kinds import DOCKER
from airflow_ml_provider.plugins.connection_forms import without_unset_fields


def _form(conn_id: str, conn_type: str, fields: dict[str, object]) -> dict[str, object]:
    return {
        "connection_id": conn_id,
        "conn_type": conn_type,
        "description": None,
        "host": None,
        "login": None,
        "schema": None,
        "port": None,
        "password": None,
        "extra": json.dumps(fields),
    }


def test_unset_fields_are_dropped_only_for_the_providers_types():
    docker = {option.name: None for option in DOCKER.options} | {"image": "python:3.11", "queue": "gpu"}
    cleaned = without_unset_fields(json.dumps(_form("d", "mlcomputedocker", docker)).encode())
    assert cleaned is not None
    assert json.loads(json.loads(cleaned)["extra"]) == {"image": "python:3.11", "queue": "gpu"}
    other = json.dumps(_form("h", "http", {"a": None})).encode()
    assert without_unset_fields(other) is None  # another provider's connection is left as sent
    assert without_unset_fields(b"not json") is None


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowProcesses]:
    home = tmp_path_factory.mktemp("forms")
    with airflow_processes(home / "airflow", home / "dags", components=("api-server",)) as airflow:
        yield airflow


def test_saved_connections_hold_only_what_was_set(api_server: AirflowProcesses, tmp_path: Path):
    docker = {option.name: None for option in DOCKER.options} | {"image": "python:3.11", "queue": "gpu"}
    api_server.request("POST", "/api/v2/connections", json=_form("form_docker", "mlcomputedocker", docker))
    saved = api_server.request("GET", "/api/v2/connections/form_docker")
    assert json.loads(saved["extra"]) == {"image": "python:3.11", "queue": "gpu"}

    # Editing: emptying a field removes it; the others stay.
    edited = docker | {"gpus": "all", "queue": ""}
    api_server.request(
        "PATCH", "/api/v2/connections/form_docker", json=_form("form_docker", "mlcomputedocker", edited)
    )
    saved = api_server.request("GET", "/api/v2/connections/form_docker")
    assert json.loads(saved["extra"]) == {"image": "python:3.11", "gpus": "all"}

    # A connection of another provider is stored as it was sent.
    api_server.request("POST", "/api/v2/connections", json=_form("form_http", "http", {"a": None, "b": 1}))
    saved = api_server.request("GET", "/api/v2/connections/form_http")
    assert json.loads(saved["extra"]) == {"a": None, "b": 1}
