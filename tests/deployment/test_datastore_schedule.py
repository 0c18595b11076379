"""DatastoreSchedule under a real triggerer: a file lands in a subfolder, one run starts with its
path as a parameter; the same bytes rewritten start nothing; a second new file starts one more."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from airflow_ml_provider.client import PipelineClient
from airflow_ml_provider.runtime.staging import local_path

DAG_ID = "on_new_data"
POLL_SECONDS = 3


def _runs(deployment: Any) -> list[dict[str, Any]]:
    found = deployment.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"order_by": "run_after"})
    return list(found["dag_runs"])


def _finished_runs(deployment: Any, count: int) -> list[dict[str, Any]]:
    def finished() -> list[dict[str, Any]] | None:
        runs = _runs(deployment)
        done = len(runs) >= count and all(run["state"] in ("success", "failed") for run in runs)
        return runs if done else None

    return list(deployment.wait_for(finished, f"{count} finished runs of {DAG_ID}", timeout=240))


def _seen(client: PipelineClient, run_id: str) -> str:
    output = client.get_run(DAG_ID, run_id).step("ingest").get_output_data("seen")
    folder = local_path(output.uri)
    assert folder is not None
    return (folder / "seen.txt").read_text()


def test_a_landed_file_starts_one_run_with_its_path(deployment: Any) -> None:
    landing = deployment.home / "landing" / "incoming"
    landing.mkdir(parents=True, exist_ok=True)
    (landing / "old.csv").write_text("there before the watch\n")
    deployment.wait_for_dag(DAG_ID)
    deployment.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    deployment.wait_for(
        lambda: (
            'watching datastore "landing" path "incoming": 1 files now'
            in deployment.log_tail("triggerer", 100000)
        ),
        "the triggerer to take its first look",
    )
    client = PipelineClient(deployment.api_url, username=deployment.username, password=deployment.password)

    (landing / "2026" / "11").mkdir(parents=True)
    (landing / "2026" / "11" / "a.csv").write_text("a,1\n")
    first = _finished_runs(deployment, 1)
    assert [(run["run_type"], run["state"]) for run in first] == [("asset_triggered", "success")], (
        deployment.logs()
    )
    assert _seen(client, first[0]["dag_run_id"]) == "incoming/2026/11/a.csv\na,1\n"

    # The same bytes again (a new inode and mtime): no change, no run.
    rewritten: Path = landing / "2026" / "11" / "a.csv"
    rewritten.unlink()
    rewritten.write_text("a,1\n")
    time.sleep(3 * POLL_SECONDS)
    assert len(_runs(deployment)) == 1

    (landing / "b.csv").write_text("b,2\n")
    runs = _finished_runs(deployment, 2)
    assert len(runs) == 2 and runs[1]["state"] == "success", deployment.logs()
    assert _seen(client, runs[1]["dag_run_id"]) == "incoming/b.csv\nb,2\n"
    time.sleep(2 * POLL_SECONDS)
    assert len(_runs(deployment)) == 2
