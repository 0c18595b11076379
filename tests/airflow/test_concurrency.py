"""One computation per fingerprint: concurrent runs wait for the lease holder, then reuse.

Two `airflow dags test` processes run the same pipeline at once; a step appends to a
counter file each time its script really runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

from airflow_ml_provider.caching.store import StepCacheStore

REPO = Path(__file__).resolve().parents[2]

DAG_FILE = """
from airflow.sdk import DAG
from airflow_ml_provider import PipelineData, PythonScriptStep

made, used = PipelineData("made"), PipelineData("used")
with DAG("{dag_id}", schedule=None):
    PythonScriptStep(name="slow", script_name="slow.py", source_directory="{dag_id}_steps",
                     arguments=["--counter", "{counter}", "--seconds", "{seconds}", "--out", made],
                     outputs=[made])
    PythonScriptStep(name="after", script_name="after.py", source_directory="{dag_id}_steps",
                     arguments=["--made", made, "--out", used], inputs=[made], outputs=[used])
"""

SLOW = """
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--counter"); parser.add_argument("--seconds", type=float); parser.add_argument("--out")
args = parser.parse_args()
with open(args.counter, "a") as counter:
    counter.write(f"{os.getpid()}\\n")
# Hold the step until the test releases it (or the time is up). The environment is not
# part of the fingerprint, so a test can also skip the wait.
if os.environ.get("AML_TEST_NO_WAIT") != "1":
    deadline = time.time() + args.seconds
    while not os.path.exists(args.counter + ".release") and time.time() < deadline:
        time.sleep(0.1)
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "result.txt"), "w") as result:
    result.write("complete\\n")
"""

AFTER = """
import argparse, os, shutil
parser = argparse.ArgumentParser()
parser.add_argument("--made"); parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
shutil.copy(os.path.join(args.made, "result.txt"), os.path.join(args.out, "copy.txt"))
"""


def _write_pipeline(dags_folder: Path, tmp_path: Path, dag_id: str, seconds: float) -> tuple[Path, Path]:
    steps = dags_folder / f"{dag_id}_steps"
    steps.mkdir()
    (steps / "slow.py").write_text(SLOW)
    (steps / "after.py").write_text(AFTER)
    counter = tmp_path / "counter.txt"
    dag_file = dags_folder / f"{dag_id}.py"
    dag_file.write_text(DAG_FILE.format(dag_id=dag_id, counter=counter, seconds=seconds))
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write(f"{dag_id}_steps/\n")
    return dag_file, counter


def _wait_for(condition: Any, process: subprocess.Popen[bytes], log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


def _start(dag_id: str, dag_file: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, "-f", str(dag_file)],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _states(dag_id: str) -> dict[str, dict[str, str]]:
    """run id -> task id -> state, for every run of the DAG."""
    runs: dict[str, dict[str, str]] = {}
    with create_session() as session:
        for ti in session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id)):
            runs.setdefault(ti.run_id, {})[ti.task_id] = str(ti.state)
    return runs


def _two_runs_at_once_compute_once(
    dags_folder: Path, tmp_path: Path, dag_id: str, env: dict[str, str]
) -> None:
    dag_file, counter = _write_pipeline(dags_folder, tmp_path, dag_id, seconds=180)
    env = {"AIRFLOW__ML_PIPELINES__REUSE_POKE_SECONDS": "1", **env}
    first = _start(dag_id, dag_file, env, tmp_path / "first.log")
    # The second run starts once the first is inside the step (so both DAG runs are live at
    # once; two processes registering one new DAG at the same instant collide in Airflow).
    _wait_for(lambda: counter.exists() and counter.read_text(), first, tmp_path / "first.log")
    second = _start(dag_id, dag_file, env, tmp_path / "second.log")
    # The step is held until one of the runs is seen waiting for the other's lease.
    deadline = time.monotonic() + 180
    while not any(
        "is computing the same fingerprint" in (tmp_path / log).read_text(errors="replace")
        for log in ("first.log", "second.log")
    ):
        assert time.monotonic() < deadline, "neither run waited for the other"
        assert first.poll() is None and second.poll() is None, "a run ended before the other waited"
        time.sleep(0.5)
    Path(f"{counter}.release").touch()
    assert first.wait(timeout=240) == 0, (tmp_path / "first.log").read_text()[-3000:]
    assert second.wait(timeout=240) == 0, (tmp_path / "second.log").read_text()[-3000:]

    assert len(counter.read_text().splitlines()) == 1, "the slow step ran more than once"
    runs = _states(dag_id)
    assert len(runs) == 2
    slow_states = sorted(states["slow.run"] for states in runs.values())
    assert slow_states == ["skipped", "success"]
    assert all(states["slow.reuse"] == "success" for states in runs.values())
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "is computing the same fingerprint" in logs
    # The waiting run recorded once whom it waited for (what the UI shows as "waiting").
    decisions = StepCacheStore(env.get("AIRFLOW__ML_PIPELINES__CACHE_URL")).decisions(dag_id, "slow")
    waits = [d for d in decisions if d.decision == "waiting"]
    assert len(waits) == 1, decisions
    (holder,) = {d.run_id for d in decisions if d.decision == "run"}
    assert waits[0].message == f"waiting for run {holder}, which is computing the same fingerprint"
    assert [
        e.step for e in StepCacheStore(env.get("AIRFLOW__ML_PIPELINES__CACHE_URL")).list_entries(dag_id)
    ] == [
        "after",
        "slow",
    ]


def test_two_runs_at_once_compute_a_fingerprint_once_sqlite(airflow_db, dags_folder, tmp_path):
    _two_runs_at_once_compute_once(dags_folder, tmp_path, "concurrent_sqlite", {})


@pytest.mark.integration
def test_two_runs_at_once_compute_a_fingerprint_once_postgres(
    airflow_db, dags_folder, tmp_path, postgres_url
):
    _two_runs_at_once_compute_once(
        dags_folder, tmp_path, "concurrent_postgres", {"AIRFLOW__ML_PIPELINES__CACHE_URL": postgres_url}
    )


def test_killed_lease_holder_lets_the_other_run_proceed_and_its_partial_output_is_never_reused(
    airflow_db, dags_folder, tmp_path
):
    dag_id = "killed_holder"
    dag_file, counter = _write_pipeline(dags_folder, tmp_path, dag_id, seconds=120)
    # Long enough that the second run surely finds the dead holder's lease still live.
    env = {"AIRFLOW__ML_PIPELINES__LEASE_SECONDS": "40", "AIRFLOW__ML_PIPELINES__REUSE_POKE_SECONDS": "1"}
    holder = _start(dag_id, dag_file, env, tmp_path / "holder.log")
    deadline = time.monotonic() + 120
    while not (counter.exists() and counter.read_text()):
        assert time.monotonic() < deadline, (tmp_path / "holder.log").read_text()[-3000:]
        assert holder.poll() is None, (tmp_path / "holder.log").read_text()[-3000:]
        time.sleep(0.2)
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()

    # Same fingerprint (same arguments); this time the script does not wait to be released.
    taker = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, "-f", str(dag_file)],
        env={**os.environ, **env, "AML_TEST_NO_WAIT": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert taker.returncode == 0, taker.stdout[-3000:] + taker.stderr[-3000:]
    assert len(counter.read_text().splitlines()) == 2, "the second run must compute the step itself"
    entries = StepCacheStore().list_entries(dag_id, "slow")
    assert len(entries) == 1
    published = entries[0].outputs["made"]["uri"].removeprefix("file://")
    assert Path(published, "result.txt").read_text() == "complete\n"
    # The holder died on this machine: the taker's sensor sweeps its attempt record, which frees
    # the lease at once (before the sweep landed, the taker waited for the lease to expire).
    log = taker.stdout + taker.stderr
    assert "swept what a dead attempt" in log and "its lease on" in log, log[-3000:]
