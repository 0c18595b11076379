"""What a worker process keeps for MLflow lives in tracking/process.py: the environment MLflow's
client reads, and the experiment and parent run ids a Tracker has learnt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_ml_provider.hooks.tracking_config import TrackingConfig
from airflow_ml_provider.tracking import process
from airflow_ml_provider.tracking.runs import Tracker


def test_a_tracker_sets_the_clients_environment_and_keeps_a_users_retry_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")
    # Recorded by monkeypatch (set, then removed), so whatever the tracker sets is undone after.
    for name in ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    config = TrackingConfig(
        "http://tracking.invalid:5000",
        credentials={"MLFLOW_TRACKING_USERNAME": "ml", "MLFLOW_TRACKING_PASSWORD": "s3cret"},
    )
    Tracker(config)
    assert os.environ["MLFLOW_TRACKING_USERNAME"] == "ml"
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "s3cret"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "7"  # the user's own setting stays
    assert (
        os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == process.CLIENT_RETRY_ENV["MLFLOW_HTTP_REQUEST_TIMEOUT"]
    )


def test_experiment_ids_are_remembered_by_the_process_until_forgotten(tmp_path: Path) -> None:
    process.forget()
    tracker = Tracker(TrackingConfig(f"sqlite:///{tmp_path / 'mlflow.db'}"))
    first = tracker.experiment_id("remembered")
    assert process.experiment_ids == {(tracker.config.uri, "remembered"): first}
    # Another tracker of the same store (a later step in this process) asks MLflow nothing.
    assert Tracker(tracker.config).experiment_id("remembered") == first
    process.forget()
    assert process.experiment_ids == {} and process.parent_run_ids == {}
