"""The client and its CLI against a real deployment: api-server, scheduler, dag-processor, triggerer.

Submit with parameters, an experiment and tags; a live step table; steps with their reuse
explanation and outputs; an output downloaded and checked; a second run reused; a cancelled
run; parameters refused before anything is triggered; the CLI's errors in one line.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from airflow_ml_provider.client import ClientError, ParameterError, PipelineClient

DAG_ID = "client_pipeline"
AIRFLOW_ML = Path(sys.executable).with_name("airflow-ml")


@pytest.fixture(scope="module")
def client(deployment: Any) -> PipelineClient:
    deployment.wait_for_dag(DAG_ID)
    return PipelineClient(deployment.api_url, username=deployment.username, password=deployment.password)


def _runs(deployment: Any) -> int:
    return int(deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")["total_entries"])


def test_bad_submissions_are_refused_before_a_run_is_made(deployment: Any, client: PipelineClient) -> None:
    with pytest.raises(ParameterError, match="has no parameter 'greetng'; its parameters: greeting, seconds"):
        client.submit(DAG_ID, {"greetng": "hi"}, unpause=True)
    with pytest.raises(ParameterError, match="parameter 'seconds' = 'soon' is refused"):
        client.submit(DAG_ID, {"seconds": "soon"}, unpause=True)
    with pytest.raises(ClientError, match="is paused"):
        client.submit(DAG_ID, {"greeting": "hi"})
    with pytest.raises(ClientError, match='there is no pipeline "no_such_pipeline"'):
        client.submit("no_such_pipeline")
    assert _runs(deployment) == 0


def test_submit_wait_steps_outputs_and_reuse(deployment: Any, client: PipelineClient, tmp_path: Path) -> None:
    run = client.submit(
        DAG_ID, {"greeting": "bonjour"}, experiment_name="client-tests", tags={"team": "vision"}, unpause=True
    )
    shown = io.StringIO()
    state = run.wait_for_completion(show_output=True, console=Console(file=shown, width=200), timeout=240)
    assert state == "success", deployment.logs()
    text = shown.getvalue()
    assert "make: ran" in text and "use: ran" in text, text

    steps = run.get_steps()
    assert [(step.name, step.status) for step in steps] == [("make", "ran"), ("use", "ran")]
    assert all(step.duration and step.duration > 0 for step in steps)
    assert steps[0].explanation and "run" in steps[0].explanation
    made = steps[0].get_output_data("made")
    assert made.produced_by.run_id == run.run_id and made.digest.startswith("blake3:")
    copy = run.step("use").get_output_data("used").download(tmp_path)
    assert (copy / "shout.txt").read_text() == "BONJOUR"
    with pytest.raises(ClientError, match="exists"):
        run.step("use").get_output_data("used").download(tmp_path)

    # The MLflow pipeline run is in the submitted experiment, with the submitted tags.
    from mlflow.tracking import MlflowClient

    mlflow = MlflowClient(tracking_uri=f"sqlite:///{deployment.home / 'ml' / 'mlflow.db'}")
    experiment = mlflow.get_experiment_by_name("client-tests")
    assert experiment is not None
    parents = mlflow.search_runs([experiment.experiment_id], filter_string="tags.ml_level = 'pipeline'")
    assert [(p.data.tags["run_id"], p.data.tags["team"]) for p in parents] == [(run.run_id, "vision")]

    again = client.submit(DAG_ID, {"greeting": "bonjour"})
    assert again.wait_for_completion(timeout=240) == "success", deployment.logs()
    reused = again.get_steps()
    assert [(step.name, step.status) for step in reused] == [("make", "reused"), ("use", "reused")]
    assert reused[0].explanation is not None and run.run_id in reused[0].explanation
    assert reused[1].get_output_data("used").digest == run.step("use").get_output_data("used").digest


def test_cancel_stops_a_running_run(deployment: Any, client: PipelineClient) -> None:
    run = client.submit(DAG_ID, {"greeting": "slow", "seconds": 300}, unpause=True)
    deployment.wait_for(lambda: run.step("make").run_state == "running", "step make to be running")
    run.cancel()
    assert run.wait_for_completion(timeout=60) == "failed"
    assert run.step("make").status == "failed"


def test_cli_lists_steps_and_refuses_unknown_parameters(deployment: Any, client: PipelineClient) -> None:
    env = {
        **os.environ,
        "AIRFLOW_ML_API_URL": deployment.api_url,
        "AIRFLOW_ML_API_USERNAME": deployment.username,
        "AIRFLOW_ML_API_PASSWORD": deployment.password,
        "COLUMNS": "200",
    }
    latest = client.list_runs(DAG_ID, limit=5)
    finished = next(run for run in latest if run.record["state"] == "success")
    shown = subprocess.run(
        [str(AIRFLOW_ML), "steps", DAG_ID, finished.run_id], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "make" in shown.stdout and ("reused" in shown.stdout or "ran" in shown.stdout)

    refused = subprocess.run(
        [str(AIRFLOW_ML), "submit", DAG_ID, "-p", "colour=red"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "has no parameter 'colour'; its parameters: greeting, seconds" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
