"""Tracking against a real `mlflow server` on loopback, started (and stopped) by the test."""

from __future__ import annotations

import json

import pytest
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from mlflow.tracking import MlflowClient
from servers import start_server, stop
from sqlalchemy import select
from tracking_pipeline import write_tracked_pipeline

from airflow_ml_provider.dag_runs import run_pipeline

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t-Pa55-w0rd"
UI_URL = "http://mlflow.example.test:5000"


@pytest.fixture
def mlflow_server(tmp_path, monkeypatch):
    uri, server = start_server(tmp_path)
    connection = {
        "conn_type": "mltracking",
        "host": uri,
        "login": "pipeline-bot",
        "password": PASSWORD,
        "extra": {"ui_url": UI_URL},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps(connection))
    # Give up quickly when the server is gone (the provider keeps a user's own settings).
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    yield uri, server
    stop(server)


def _xcoms(dag_id: str, run_id: str) -> dict[tuple[str, str], object]:
    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
        )
        return {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}


def test_tracking_server_runs_registry_links_and_no_leaked_credentials(
    airflow_db, dags_folder, mlflow_server, capfd
):
    uri, server = mlflow_server
    dag_file = write_tracked_pipeline(dags_folder, "tracked_server", model_name="server-model")

    dag_run, steps = run_pipeline("tracked_server", dag_file=str(dag_file))

    assert str(dag_run.state) == "success", [(s.name, s.status) for s in steps]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tracked_server")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("ml_level") == "pipeline"]
    children = {r.data.tags["step"]: r for r in runs if r.data.tags.get("ml_level") == "step"}
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert parents[0].data.metrics == {"prepare.rows": 3.0, "fit.loss": 1.0}
    assert children["fit"].data.metrics == {"loss": 1.0}
    assert children["fit"].data.params["alpha"] == "0.5"
    version = client.get_model_version_by_alias("server-model", "candidate")
    assert version.run_id == children["fit"].info.run_id

    xcoms = _xcoms("tracked_server", dag_run.run_id)
    assert str(xcoms[("fit.run", "model_version")]) == version.version
    link = xcoms[("fit.run", "_link_MlflowRunLink")]
    assert link == f"{UI_URL}/#/experiments/{experiment.experiment_id}/runs/{children['fit'].info.run_id}"

    # The password reaches the script (as MLFLOW_TRACKING_PASSWORD) but is written nowhere.
    output = "".join(capfd.readouterr())
    assert PASSWORD not in output
    assert all(PASSWORD not in json.dumps(value, default=str) for value in xcoms.values())
    for run in runs:
        assert all(PASSWORD not in value for value in run.data.params.values())
        assert all(PASSWORD not in value for value in run.data.tags.values())

    stop(server)
    failed, _ = run_pipeline("tracked_server", {"alpha": 0.7}, dag_file=str(dag_file))
    assert str(failed.state) == "failed"
    # The probe before the first MLflow call finds it down (and says what to do), in seconds.
    log = "".join(capfd.readouterr())
    assert f"the MLflow tracking server at {uri} does not answer" in log, log[-3000:]
    assert 'set tracking="optional" to run the step untracked' in log


def test_tracking_optional_runs_untracked_with_a_warning_when_the_server_is_down(
    airflow_db, dags_folder, mlflow_server, capfd
):
    _, server = mlflow_server
    stop(server)
    dag_file = write_tracked_pipeline(
        dags_folder, "tracked_optional", default_args='{"tracking": "optional"}', model_name="optional-model"
    )

    dag_run, steps = run_pipeline("tracked_optional", dag_file=str(dag_file))

    assert str(dag_run.state) == "success"
    assert [s.status for s in steps] == ["ran", "ran"]
    output = "".join(capfd.readouterr())
    assert 'running untracked (tracking="optional")' in output
