"""``airflow-ml run`` and ``status`` through the warm run server: a real server process forking
a child per command, real DAG runs in Airflow's database, real MLflow runs.

The test session runs commands in their own process (``run_server_idle_seconds = 0`` in
conftest.py); these tests switch the server on for their commands and stop it at the end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_reuse import STEPS, Run, WineCopy, wine_copy  # noqa: F401 (a fixture)

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.dag_runs import load_pipeline, step_summaries
from airflow_ml_provider.render import pipeline_of
from airflow_ml_provider.runserver.key import server_folder
from airflow_ml_provider.tracking.summary import tracking_summary

AIRFLOW_ML = str(Path(sys.executable).parent / "airflow-ml")
IDLE = "AIRFLOW__ML_PIPELINES__RUN_SERVER_IDLE_SECONDS"
TINY = """
from airflow.sdk import DAG, Param

from airflow_ml_provider import PipelineData, PipelineParameter, PythonScriptStep

out = PipelineData("out")
with DAG("{dag_id}", schedule=None, params={{"word": Param("done", type="string")}}):
    PythonScriptStep(name="only", script_name="step.py", source_directory="{dag_id}",
                     arguments=["--output", out, "--word", PipelineParameter("word")], outputs=[out])
"""
STEP = """
import argparse, os, time
parser = argparse.ArgumentParser(); parser.add_argument("--output"); parser.add_argument("--word")
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "out.txt"), "w") as handle:
    handle.write(args.word)
with open({pid_file!r}, "w") as handle:
    handle.write(str(os.getpid()))
{then}
"""


def airflow_ml(*args: str, idle: str = "300", timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The command as a user types it (the environment is read now: copies add connections)."""
    return subprocess.run(
        [AIRFLOW_ML, *args],
        env={**os.environ, IDLE: idle},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def table(output: str) -> dict[str, str]:
    """Step -> status, from the table `airflow-ml run` prints."""
    found = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)]
        if len(cells) > 3 and cells[1] and cells[1] != "step" and cells[2]:
            found[cells[1]] = cells[2]
    return found


@dataclass
class Served:
    server: int
    command: str
    child: int
    exit: int | None


def served() -> list[Served]:
    """What the run servers of this AIRFLOW_HOME say they did, from their log."""
    log = server_folder() / "server.log"
    text = log.read_text() if log.exists() else ""
    children: dict[int, Served] = {}
    for server, command, child, code in re.findall(
        r"run server (\d+): (.+?): child (\d+)(?: exit (-?\d+))?", text
    ):
        entry = children.setdefault(int(child), Served(int(server), command, int(child), None))
        if code:
            entry.exit = int(code)
    return list(children.values())


@pytest.fixture(scope="module")
def run_server(airflow_db: Path):
    yield
    stopped = airflow_ml("server", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def recorded_run(copy: WineCopy, run_id: str) -> Run:
    """A run as Airflow's database and XCom have it."""
    from airflow.models.dagrun import DagRun

    (dag_run,) = DagRun.find(dag_id=copy.dag_id, run_id=run_id)
    dag = load_pipeline(copy.dag_id, dag_file=str(copy.dag_file))
    summaries = step_summaries(pipeline_of(dag), copy.dag_id, run_id)
    return Run(
        dag_run,
        {s.name: s.status for s in summaries},
        {name: reference for s in summaries for name, reference in s.outputs.items()},
    )


def run_id_of(output: str, dag_id: str) -> str:
    found = re.search(rf"{dag_id}\s+(\S+)\s+success", output)
    assert found, output[-3000:]
    return found.group(1)


def test_a_second_run_through_the_warm_server_reuses_every_step_and_is_recorded(wine_copy, run_server):  # noqa: F811
    copy = wine_copy("served")

    first = airflow_ml("run", copy.dag_id)
    second = airflow_ml("run", copy.dag_id)
    status = airflow_ml("status", copy.dag_id)

    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert table(first.stdout) == dict.fromkeys(STEPS, "ran")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "starting a run server" not in second.stderr
    assert table(second.stdout) == dict.fromkeys(STEPS, "reused")
    assert status.returncode == 0 and "6 of 6 steps would be reused" in status.stdout, status.stdout
    # Each command ran in a child of one warm server.
    mine = [entry for entry in served() if entry.command.endswith(copy.dag_id)]
    assert [(entry.command, entry.exit) for entry in mine] == [
        (f"run {copy.dag_id}", 0),
        (f"run {copy.dag_id}", 0),
        (f"status {copy.dag_id}", 0),
    ]
    assert len({entry.server for entry in mine}) == 1
    assert len({entry.child for entry in mine}) == 3
    # A real DAG run in Airflow's database: task states, XCom references, the cache's decisions.
    previous = recorded_run(copy, run_id_of(first.stdout, copy.dag_id))
    reused = recorded_run(copy, run_id_of(second.stdout, copy.dag_id))
    assert str(reused.dag_run.state) == "success"
    copy.check(reused, previous, ran=set())
    states = {ti.task_id: str(ti.state) for ti in reused.dag_run.get_task_instances()}
    assert states == {
        **{f"{step}.reuse": "success" for step in STEPS},
        **{f"{step}.run": "skipped" for step in STEPS},
    }
    # Its MLflow parent run, finished.
    tracked = tracking_summary(copy.dag_id, reused.run_id, copy.dag_id)
    assert tracked.parent_run_id is not None and tracked.parent_status == "FINISHED"
    assert f"pipeline run {tracked.parent_run_id} FINISHED" in second.stdout


@pytest.fixture
def tiny(dags_folder: Path):
    """A one-step pipeline; ``then`` is what its script does after writing its pid (beside the
    DAG file: a file in the step's folder would be part of its code)."""

    def make(dag_id: str, then: str = "") -> Path:
        (dags_folder / dag_id).mkdir()
        pid_file = str(dags_folder / f"{dag_id}.pid")
        (dags_folder / dag_id / "step.py").write_text(STEP.format(pid_file=pid_file, then=then))
        (dags_folder / f"{dag_id}.py").write_text(TINY.format(dag_id=dag_id))
        return dags_folder

    return make


def test_a_run_falls_back_to_its_own_process_when_no_server_can_serve_it(tiny, run_server):
    tiny("served_fallback")
    before = served()

    # The server cannot read its setting and exits while starting: the command runs here.
    broken = airflow_ml("run", "served_fallback", idle="soon")
    forced = airflow_ml("run", "served_fallback", "--no-server")
    switched_off = airflow_ml("run", "served_fallback", idle="0")

    assert broken.returncode == 0, broken.stdout[-3000:] + broken.stderr[-3000:]
    assert "running in this process: the run server exited with status 1 while starting" in broken.stderr
    assert table(broken.stdout) == {"only": "ran"}
    for result in (forced, switched_off):
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "run server" not in result.stderr
        assert table(result.stdout) == {"only": "reused"}
    assert served() == before
    assert "soon" in (server_folder() / "server.log").read_text()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_ctrl_c_of_the_caller_stops_the_run_and_its_script(tiny, run_server):
    folder = tiny("served_slow", then="time.sleep(600)")
    pid_file = folder / "served_slow.pid"
    with open(folder / "served_slow.output", "w") as output:
        caller = subprocess.Popen(
            [AIRFLOW_ML, "run", "served_slow"], env={**os.environ, IDLE: "300"}, stdout=output, stderr=output
        )
        deadline = time.monotonic() + 300
        while not pid_file.exists() and time.monotonic() < deadline and caller.poll() is None:
            time.sleep(0.2)
        assert pid_file.exists(), (folder / "served_slow.output").read_text()[-3000:]
        time.sleep(0.5)  # the pid is written in full
        script = int(pid_file.read_text())
        assert _alive(script)

        caller.send_signal(signal.SIGINT)
        code = caller.wait(timeout=120)

    assert code != 0
    deadline = time.monotonic() + 60
    while _alive(script) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(script)
    (child,) = [entry for entry in served() if entry.command == "run served_slow"]
    deadline = time.monotonic() + 60
    while child.exit is None and time.monotonic() < deadline:
        time.sleep(0.2)
        (child,) = [entry for entry in served() if entry.command == "run served_slow"]
    assert child.exit is not None and child.exit != 0
    assert not _alive(child.child)


def test_the_warm_server_sees_an_edited_script_and_an_edited_dag_file(tiny, run_server):
    folder = tiny("served_edit")
    script, dag_file = folder / "served_edit" / "step.py", folder / "served_edit.py"
    first = airflow_ml("run", "served_edit")
    unchanged = airflow_ml("run", "served_edit")
    script.write_text(script.read_text() + "# reviewed\n")
    script_edited = airflow_ml("run", "served_edit")
    dag_file.write_text(dag_file.read_text().replace('Param("done"', 'Param("edited"'))
    dag_edited = airflow_ml("run", "served_edit")

    results = (first, unchanged, script_edited, dag_edited)
    for result in results:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert [table(result.stdout)["only"] for result in results] == ["ran", "reused", "ran", "ran"]
    reasons = [
        decision.message
        for result in (script_edited, dag_edited)
        for decision in StepCacheStore().decisions(
            "served_edit", "only", run_id_of(result.stdout, "served_edit")
        )
    ]
    assert "step.py changed" in reasons[0], reasons
    assert 'parameter "word" changed (done -> edited)' in reasons[1], reasons
    mine = [entry for entry in served() if entry.command == "run served_edit"]
    assert [entry.exit for entry in mine] == [0, 0, 0, 0]
    assert len({entry.server for entry in mine}) == 1


def test_a_server_whose_loaded_code_changed_hands_over_to_a_new_one(tmp_path: Path):
    # Its own AIRFLOW_HOME: `status` needs no metadata database, and the edited
    # airflow_local_settings.py (loaded by the server when it imports Airflow) stays here.
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    local_settings = home / "config" / "airflow_local_settings.py"
    local_settings.write_text("# one\n")
    (home / "dags" / "served_code").mkdir(parents=True)
    (home / "dags" / "served_code" / "step.py").write_text(
        STEP.format(pid_file=str(tmp_path / "pid"), then="")
    )
    (home / "dags" / "served_code.py").write_text(TINY.format(dag_id="served_code"))
    env = {
        **os.environ,
        IDLE: "120",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
    }

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AIRFLOW_ML, "status", "served_code"], env=env, capture_output=True, text=True, timeout=900
        )

    try:
        before = status()
        local_settings.write_text("# two: edited\n")
        after = status()
    finally:
        subprocess.run([AIRFLOW_ML, "server", "stop"], env=env, capture_output=True, timeout=60)

    for result in (before, after):
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "0 of 1 steps would be reused" in result.stdout
    log = (home / "ml" / "run-server" / "server.log").read_text()
    servers = re.findall(r"run server (\d+): ready", log)
    assert len(servers) == 2, log
    assert f"run server {servers[0]}: stopping ({local_settings} changed)" in log
    assert re.search(rf"run server {servers[1]}: status served_code: child \d+ exit 0", log), log
