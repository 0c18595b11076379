"""Trigger-to-success under a real scheduler: the fully reused wine example vs a plain DAG.

One deployment (api-server, scheduler, dag-processor, triggerer; LocalExecutor on SQLite; the
embedded MLflow store), two DAGs in its dags folder:

- ``wine_classifier``, the example, run once cold first (every step runs); every timed run
  reuses all 6 steps: each ``<step>.reuse`` task hits the cache and skips ``<step>.run``;
- ``bench_plain_wine``: one no-op ``PythonOperator`` per step, wired like the example, so both
  execute 6 tasks in the same order (EmptyOperator is never executed, so it would not compare).

Timed, alternating, ``--reps`` of each: from the run's ``queued_at`` to its ``end_date`` (the
API server's own timestamps). Then one more reused run with a profiler in its task processes (a
listener plugin in this deployment's plugins folder, switched on by a file: cProfile from the task
runner's start to its end), summarised as where a reuse hit's time goes.

    .venv/bin/python benchmarks/scheduler_reuse.py [--reps 5] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from airflow_processes import AirflowProcesses, airflow_processes  # noqa: E402

TARGET = 1.1
EXAMPLE = "wine_classifier"
PLAIN = "bench_plain_wine"
STEPS = ("fetch", "ingest", "featurize", "train", "evaluate", "score")

PLAIN_DAG = f'''
"""One no-op task per step of the wine example, wired the same way (benchmarks/scheduler_reuse.py)."""

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def nothing() -> None:
    pass


with DAG("{PLAIN}", schedule=None, catchup=False):
    tasks = {{name: PythonOperator(task_id=name, python_callable=nothing) for name in {STEPS!r}}}
    tasks["fetch"] >> tasks["ingest"] >> tasks["featurize"] >> tasks["train"]
    [tasks["featurize"], tasks["train"]] >> tasks["evaluate"]
    tasks["train"] >> tasks["score"]
'''

PROFILER_PLUGIN = '''
"""cProfile of each task process, from the task runner's start to its end (benchmarks only)."""

import cProfile
import os

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

_state = {}


class Profiler:
    @hookimpl
    def on_starting(self, component):
        flag = os.path.join(os.environ["AIRFLOW_HOME"], "profile-tasks")
        if os.path.exists(flag) and type(component).__name__ == "TaskRunnerMarker":
            _state["profile"] = cProfile.Profile()
            _state["profile"].enable()

    @hookimpl
    def on_task_instance_running(self, previous_state, task_instance):
        _state["name"] = f"{task_instance.run_id}.{task_instance.task_id}"

    @hookimpl
    def before_stopping(self, component):
        profile = _state.pop("profile", None)
        if profile is not None:
            profile.disable()
            folder = os.path.join(os.environ["AIRFLOW_HOME"], "profiles")
            os.makedirs(folder, exist_ok=True)
            profile.dump_stats(os.path.join(folder, _state.get("name", str(os.getpid())) + ".prof"))


class ProfilerPlugin(AirflowPlugin):
    name = "bench_profiler"
    listeners = [Profiler()]
'''

# Where a reuse hit's time goes: (label, what the function's file or name contains).
CATEGORIES = (
    ("XCom and other calls to the API server", ("execution_time/comms.py", "sdk/api/client.py")),
    ("MLflow (store start-up, runs, tags, metrics)", ("/mlflow/",)),
    ("step cache (SQL store)", ("caching/store.py",)),
    (
        "fingerprint (stat cache, code, inputs)",
        ("caching/content.py", "caching/statcache.py", "caching/parts.py"),
    ),
    ("DAG file parse", ("dagbag.py", "bundles/")),
    ("imports", ("<frozen importlib._bootstrap>",)),
)


def timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def trigger(airflow: AirflowProcesses, dag_id: str, timeout: float = 600) -> dict[str, Any]:
    run = airflow.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None})
    run_id = run["dag_run_id"]

    def finished() -> dict[str, Any] | None:
        record = airflow.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return record if record["state"] in ("success", "failed") else None

    record: dict[str, Any] = airflow.wait_for(finished, f"{dag_id} run {run_id}", timeout)
    if record["state"] != "success":
        sys.exit(f"{dag_id} run {run_id} failed\n{airflow.logs()}")
    tasks = airflow.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    record["tasks"] = {ti["task_id"]: ti for ti in tasks["task_instances"]}
    record["seconds"] = timestamp(record["end_date"]) - timestamp(record["queued_at"])
    return record


def executed(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [ti for ti in record["tasks"].values() if ti["state"] == "success"]


def task_seconds(records: list[dict[str, Any]]) -> tuple[float, float]:
    """Median (queued -> started, started -> ended) of the executed tasks of these runs."""
    waits, runs = [], []
    for record in records:
        for ti in executed(record):
            waits.append(timestamp(ti["start_date"]) - timestamp(ti["queued_when"]))
            runs.append(timestamp(ti["end_date"]) - timestamp(ti["start_date"]))
    return statistics.median(waits), statistics.median(runs)


def statuses(record: dict[str, Any]) -> list[str]:
    states = {task_id: ti["state"] for task_id, ti in record["tasks"].items()}
    return [
        "reused" if (states[f"{s}.reuse"], states[f"{s}.run"]) == ("success", "skipped") else "ran"
        if states[f"{s}.run"] == "success" else states[f"{s}.run"]
        for s in STEPS
    ]  # fmt: skip


def profile_summary(folder: Path, total_seconds: float) -> None:
    """Per reuse hit: the profiled time by category, and the costliest functions."""
    files = sorted(str(path) for path in folder.glob("*.reuse.prof"))
    if not files:
        print("no profile was written (is the listener plugin loaded?)")
        return
    stats = pstats.Stats(*files)
    hits = len(files)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    profiled = max(cumulative for (_, _, _, cumulative, _) in raw.values()) / hits
    print(f"\nprofile of {hits} reuse hits (cProfile in the task process, from start to end):")
    print(f"  median task duration (Airflow's start/end) {total_seconds:.3f} s")
    print(f"  profiled per hit {profiled:.3f} s")
    for label, needles in CATEGORIES:
        # Cumulative time of the outermost matching frames (not double-counting nested ones).
        seconds = 0.0
        for (filename, _, function), (_, _, _, cumulative, callers) in raw.items():
            where = f"{filename}:{function}"
            if any(needle in where for needle in needles) and not any(
                any(needle in f"{c[0]}:{c[2]}" for needle in needles) for c in callers
            ):
                seconds += cumulative
        print(f"  {label:<48} {seconds / hits * 1000:8.1f} ms per hit")
    print("  costliest functions (cumulative, per hit):")
    ranked = sorted(raw.items(), key=lambda item: item[1][3], reverse=True)
    shown = 0
    for (filename, line, function), (_, calls, _, cumulative, _) in ranked:
        if "airflow" not in filename and "mlflow" not in filename and "sqlalchemy" not in filename:
            continue
        short = filename.split("site-packages/")[-1].split("wt-")[-1]
        print(f"    {cumulative / hits * 1000:8.1f} ms  {calls / hits:6.1f} calls  {short}:{line} {function}")
        shown += 1
        if shown == 25:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the deployment's folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aml-bench-scheduler-"))
    dags = work / "dags"
    shutil.copytree(REPO / "dags", dags)
    (dags / f"{PLAIN}.py").write_text(PLAIN_DAG.lstrip())
    (work / "airflow" / "plugins").mkdir(parents=True)
    (work / "airflow" / "plugins" / "bench_profiler.py").write_text(PROFILER_PLUGIN.lstrip())
    env = {
        "AIRFLOW_CONN_SAMPLES": json.dumps(
            {"conn_type": "mldatastore", "host": (dags / "wine" / "data").as_uri()}
        ),
        "AIRFLOW_CONN_GPU": json.dumps({"conn_type": "mlcomputelocal"}),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(work / "airflow" / "plugins"),
    }
    try:
        started = time.perf_counter()
        with airflow_processes(work / "airflow", dags, env=env) as airflow:
            for dag_id in (EXAMPLE, PLAIN):
                airflow.wait_for_dag(dag_id, timeout=300)
                airflow.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
            print(f"deployment up in {time.perf_counter() - started:.0f} s ({work})")
            cold = trigger(airflow, EXAMPLE)
            print(f"cold {EXAMPLE} run: {cold['seconds']:.1f} s, steps: {' '.join(statuses(cold))}")
            trigger(airflow, PLAIN)  # untimed: its first run
            reused: list[dict[str, Any]] = []
            plain: list[dict[str, Any]] = []
            for rep in range(args.reps):
                for dag_id in (EXAMPLE, PLAIN) if rep % 2 == 0 else (PLAIN, EXAMPLE):
                    record = trigger(airflow, dag_id)
                    if dag_id == EXAMPLE:
                        if statuses(record) != ["reused"] * len(STEPS):
                            sys.exit(f"a timed run did not reuse every step: {statuses(record)}")
                        reused.append(record)
                    else:
                        plain.append(record)
                    print(f"rep {rep + 1} {dag_id:<16} {record['seconds']:6.2f} s")
            # One more reused run, with the profiler on in its task processes.
            (work / "airflow" / "profile-tasks").touch()
            profiled = trigger(airflow, EXAMPLE)
        reused_s = statistics.median(r["seconds"] for r in reused)
        plain_s = statistics.median(r["seconds"] for r in plain)
        (reuse_wait, reuse_run), (plain_wait, plain_run) = task_seconds(reused), task_seconds(plain)
        print()
        heading = f"trigger to success, {args.reps} each, alternating"
        print(f"{heading:<46} {'median s':>9} {'min':>6} {'max':>6}")
        for label, values in ((f"{EXAMPLE}, every step reused", reused), (f"{PLAIN}, 6 no-op tasks", plain)):
            seconds = [r["seconds"] for r in values]
            print(f"{label:<46} {statistics.median(seconds):9.2f} {min(seconds):6.2f} {max(seconds):6.2f}")
        print("per executed task (median):")
        print(f"  queued -> started {reuse_wait:.2f} s (reuse hit) vs {plain_wait:.2f} s (no-op)")
        print(f"  started -> ended {reuse_run:.2f} s (reuse hit) vs {plain_run:.2f} s (no-op)")
        profile_summary(work / "airflow" / "profiles", task_seconds([profiled])[1])
        print(f"load average at the end: {os.getloadavg()}")
        print(f"RESULT scheduler_reuse: {reused_s / plain_s:.2f} (target <= {TARGET})")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
