"""Published pipelines under real Airflow processes: publish, submit by endpoint and version,
a stale version refused (by the run when only step code changed, before the request when the
DAG changed), default version, disable; the endpoint on the run's note and conf (the conf's
endpoint becomes MLflow pipeline run tags as the client tests' tags do)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_ml_provider.client import PipelineClient
from airflow_ml_provider.endpoints.store import EndpointError, EndpointStore
from airflow_ml_provider.endpoints.versions import submit_endpoint

DAG_ID = "endpoint_pipeline"
AIRFLOW_ML = Path(sys.executable).with_name("airflow-ml")


def _cli(deployment: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **deployment.env,
        "AIRFLOW_ML_API_URL": deployment.api_url,
        "AIRFLOW_ML_API_USERNAME": deployment.username,
        "AIRFLOW_ML_API_PASSWORD": deployment.password,
        "COLUMNS": "200",
    }
    return subprocess.run([str(AIRFLOW_ML), *args], env=env, capture_output=True, text=True, timeout=300)


def _dag_version(deployment: Any) -> int:
    found = deployment.request(
        "GET", f"/api/v2/dags/{DAG_ID}/dagVersions", params={"order_by": "-version_number", "limit": 1}
    )
    return int(found["dag_versions"][0]["version_number"])


def _runs(deployment: Any) -> int:
    return int(deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")["total_entries"])


def test_publish_submit_and_refuse_stale_versions(deployment: Any) -> None:
    deployment.wait_for_dag(DAG_ID)
    store = EndpointStore(f"sqlite:///{deployment.home / 'ml' / 'step-cache.db'}")
    client = PipelineClient(deployment.api_url, username=deployment.username, password=deployment.password)

    published = _cli(deployment, "publish", DAG_ID, "--endpoint", "scoring", "--description", "first")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "published version 1" in published.stdout
    again = _cli(deployment, "publish", DAG_ID, "--endpoint", "scoring")
    assert "unchanged since version 1" in again.stdout, again.stdout + again.stderr

    submitted = _cli(deployment, "submit", "--endpoint", "scoring", "-p", "rows=3", "--unpause", "--wait")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr + deployment.logs()
    [first] = client.list_runs(DAG_ID)
    version_1 = store.version("scoring", 1)
    digest, dag_version = version_1.pipeline_digest, version_1.dag_version
    assert first.note == f"endpoint scoring version 1 (pipeline {digest[:12]}, DAG version {dag_version})"
    assert first.conf["ml_endpoint"]["pipeline_digest"] == version_1.pipeline_digest

    # Only the step's code changes: Airflow's DAG version stays, the run refuses version 1.
    script = deployment.dags_folder / "endpoint_steps" / "score.py"
    script.write_text(script.read_text().replace('"score\\n"', '"score!\\n"'))
    stale = submit_endpoint(client, "scoring", store=store)
    assert stale.wait_for_completion(timeout=240) == "failed"
    log = deployment.request(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{stale.run_id}/taskInstances/score.reuse/logs/1"
    )
    assert "version 1" in str(log) and "cannot run" in str(log), log

    version_2, new = _published(deployment, store)
    assert new and version_2.version == 2 and version_2.dag_version == version_1.dag_version
    store.set_default("scoring", 2)
    fresh = submit_endpoint(client, "scoring", parameters={"rows": 1}, store=store)
    assert fresh.wait_for_completion(timeout=240) == "success", deployment.logs()

    # The DAG itself changes: a new DAG version, and version 2 is refused before any request.
    before = _dag_version(deployment)
    dag_file = deployment.dags_folder / f"{DAG_ID}.py"
    dag_file.write_text(dag_file.read_text().replace('Param(2, type="integer")', 'Param(5, type="integer")'))
    deployment.wait_for(lambda: _dag_version(deployment) > before, "the new DAG version")
    runs = _runs(deployment)
    with pytest.raises(EndpointError, match=r"version 2 is DAG version .* current code is version"):
        submit_endpoint(client, "scoring", store=store)
    refused = _cli(deployment, "submit", "--endpoint", "scoring", "--version", "1")
    assert refused.returncode == 1 and "cannot run any more" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
    assert _runs(deployment) == runs

    store.set_disabled("scoring", True)
    with pytest.raises(EndpointError, match='endpoint "scoring" is disabled'):
        submit_endpoint(client, "scoring", store=store)
    listed = _cli(deployment, "endpoint", "versions", "scoring")
    assert "default" in listed.stdout and "first" in listed.stdout


def _published(deployment: Any, store: EndpointStore) -> Any:
    published = _cli(deployment, "publish", DAG_ID, "--endpoint", "scoring")
    assert published.returncode == 0, published.stdout + published.stderr
    latest = store.versions("scoring")[-1]
    return latest, "published version" in published.stdout
