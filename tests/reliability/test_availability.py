"""Availability: waits, dead processes, hung servers and damaged files do not stop pipelines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_pipeline

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.dag_runs import run_pipeline

pytestmark = pytest.mark.reliability

WRITE = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "done.txt"), "w").write("done\\n")
"""


def test_waiting_for_another_runs_lease_is_deferred_to_a_trigger(
    airflow_db, dags_folder, monkeypatch, ledger, capfd
):
    dag_id = "rel_lease_wait"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_lease_wait_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"make.py": WRITE},
    )
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__REUSE_POKE_SECONDS", "0.5")
    _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
    assert steps[0].status == "ran"
    store = StepCacheStore()
    (entry,) = store.list_entries(dag_id)
    store.clear(fingerprint=entry.fingerprint)
    capfd.readouterr()

    with ledger.fault("another run holds the lease, then dies (reschedule race before the fix)"):
        # A run that took the lease on this fingerprint and died: its lease expires in 30 s, long
        # enough that the sensor surely finds it live on a busy machine (with 4 s, a run that took
        # longer to start found it expired and never waited).
        assert store.try_lease(entry.base_key, f"{dag_id}|dead_run|make", 30) is None
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        log = "".join(capfd.readouterr())
        assert "run dead_run is computing the same fingerprint" in log
        # The sensor was deferred and its trigger ran (in line under dag.test(), as a triggerer would).
        assert "Pausing task as DEFERRED" in log
        assert "was released or expired" in log
        assert steps[0].status == "ran"
        assert [e.base_key for e in store.list_entries(dag_id)] == [entry.base_key]


SLOW = """
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--state"); parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "partial.txt"), "w").write("half\\n")
with open(os.path.join(args.state, "pid"), "w") as f:
    f.write(str(os.getpid()))
deadline = time.time() + 120
while time.time() < deadline and not os.path.exists(os.path.join(args.state, "release")):
    with open(os.path.join(args.state, "heartbeat"), "a") as f:
        f.write(".")
    time.sleep(0.05)
open(os.path.join(args.out, "done.txt"), "w").write("done\\n")
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _start_dag_test(dag_id: str, dag_file: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, "-f", str(dag_file)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_a_killed_task_leaves_no_script_running_and_its_leftovers_are_swept(
    airflow_db, dags_folder, tmp_path, ledger, signal_name
):
    from airflow_ml_provider.attempts import attempts_folder
    from airflow_ml_provider.hooks.tracking_config import resolve
    from airflow_ml_provider.tracking.runs import Tracker

    dag_id = f"rel_killed_{signal_name.lower()}"
    state = tmp_path / "state"
    state.mkdir()
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        f"""
        made = PipelineData("made")
        PythonScriptStep(name="slow", script_name="slow.py", source_directory="{dag_id}_steps",
                         arguments=["--state", "{state}", "--out", made], outputs=[made])
        """,
        {"slow.py": SLOW},
        default_args="{}",  # tracked in the embedded MLflow store
    )
    before = set(attempts_folder().glob("*.json")) if attempts_folder().is_dir() else set()
    fault = {
        "SIGKILL": "the task process killed with SIGKILL while its script runs",
        "SIGTERM": "the task asked to stop (SIGTERM: on_kill) while its script runs",
    }[signal_name]
    with ledger.fault(fault):
        runner = _start_dag_test(dag_id, dag_file, tmp_path / "run.log")
        _wait_until(lambda: (state / "pid").exists(), 180, (tmp_path / "run.log").read_text()[-3000:])
        pid = int((state / "pid").read_text())
        (record_file,) = set(attempts_folder().glob("*.json")) - before
        record = json.loads(record_file.read_text())
        os.killpg(runner.pid, getattr(signal, signal_name))
        runner.wait(timeout=120)
        # The script dies with the task: no orphan keeps writing.
        _wait_until(lambda: not _alive(pid), 20, f"script {pid} still running after {signal_name}")
        heartbeat = (state / "heartbeat").stat().st_size
        time.sleep(0.5)
        assert (state / "heartbeat").stat().st_size == heartbeat
        assert not (Path(record["output_folders"][0]) / "made").exists(), "a killed step published"

        # The next run task on this machine sweeps what the dead attempt left.
        (state / "release").touch()
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        assert not Path(record["work_directory"]).exists()
        assert not [p for p in Path(record["output_folders"][0]).iterdir() if p.name.startswith(".staging-")]
        assert not record_file.exists()
        run = Tracker(resolve()).client.get_run(record["mlflow_run_id"])
        assert run.info.status in ("KILLED", "FAILED")
        if signal_name == "SIGKILL":
            assert run.info.status == "KILLED"  # ended by the sweep


def test_parameter_values_no_script_could_take_fail_the_step_clearly(airflow_db, dags_folder, ledger, capfd):
    dag_id = "rel_bad_values"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        one, two = PipelineData("one"), PipelineData("two")
        PythonScriptStep(name="nul", script_name="make.py", source_directory="rel_bad_values_steps",
                         arguments=["--out", one, "--name", PipelineParameter("name", default_value="a")],
                         outputs=[one])
        PythonScriptStep(name="huge", script_name="make.py", source_directory="rel_bad_values_steps",
                         arguments=["--out", two, "--blob", PipelineParameter("blob", default_value="b")],
                         outputs=[two])
        """,
        {"make.py": "import sys\nprint(len(sys.argv))\n"},
    )
    with ledger.fault("run conf values: a NUL byte, 300,000 characters (raw crashes before the fix)"):
        _, steps = run_pipeline(dag_id, {"name": "a\0b", "blob": "x" * 300_000}, dag_file=str(dag_file))
        assert {s.name: s.status for s in steps} == {"nul": "failed", "huge": "failed"}
        log = "".join(capfd.readouterr())
        assert 'step "nul": argument 3 cannot be given to the script: it holds a NUL byte' in log
        assert 'step "huge": argument 3 cannot be given to the script: it is 300000 characters long' in log
        assert "x" * 3000 not in log, "the value was written to the log whole"


@pytest.fixture
def hung_server():
    """A tracking server that takes connections and never answers (not accepted, never read)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_hung_tracking_server_costs_seconds_and_is_asked_once_per_run(
    airflow_db, dags_folder, monkeypatch, ledger, capfd, hung_server
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps({"conn_type": "ml_tracking", "host": hung_server})
    )
    dag_id = "rel_hung_tracking"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        one, two = PipelineData("one"), PipelineData("two")
        PythonScriptStep(name="first", script_name="make.py", source_directory="rel_hung_tracking_steps",
                         arguments=["--out", one], outputs=[one])
        PythonScriptStep(name="second", script_name="make.py", source_directory="rel_hung_tracking_steps",
                         arguments=["--out", two, "--after", one], inputs=[one], outputs=[two])
        """,
        {
            "make.py": WRITE.replace(
                'parser.add_argument("--out")', 'parser.add_argument("--out"); parser.add_argument("--after")'
            )
        },
        default_args='{"tracking": "optional"}',
    )
    with ledger.fault('a hung MLflow server, tracking="optional" (382 s for 2 steps before the fix)'):
        started = time.monotonic()
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        seconds = time.monotonic() - started
        assert [s.status for s in steps] == ["ran", "ran"]
        log = "".join(capfd.readouterr())
        assert log.count("does not answer") == 1, "the server was probed more than once in one run"
        assert 'step "second": running untracked (tracking="optional")' in log
        assert "is known to be down in this pipeline run" in log
        ledger.measure("hung MLflow server, 2-step pipeline with tracking=optional", f"{seconds:.0f} s")
