"""Where the time of one `airflow-ml run <dag>` goes: the command, run in this process, with timers.

Run it with the environment the command would have (AIRFLOW_HOME, DAGS_FOLDER,
connections); `local_loop.py --profile` does. Each phase is timed on the main thread, its
nested phases subtracted, so the rows add up to the whole; the execution API's start-up runs
on Airflow's own loop thread while the main thread waits for it, and is moved out of the
row that waited. Wall seconds on a shared machine stretch with its load; the share of each
row is what to compare. Garbage collection is a row of its own (time inside collections,
whichever phase triggered them, on the main thread), taken out of the other rows.

    AIRFLOW_HOME=... .venv/bin/python benchmarks/run_profile.py [--served] <dag_id> [-p NAME=VALUE ...]

``--served``: as the run server does it. Warm up first (imports, the execution API's routes;
its time is printed, not in the table), then fork and time the command in the child.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

started = [time.perf_counter()]
exclusive: dict[str, float] = defaultdict(float)
stack: list[list[Any]] = []  # [name, started, nested seconds]
main_thread = threading.main_thread()
gc_seconds = [0.0, 0.0]  # total, started


def _gc(phase: str, info: dict[str, Any]) -> None:
    if threading.current_thread() is not main_thread:
        return  # counted in the loop thread's own row
    if phase == "start":
        gc_seconds[1] = time.perf_counter()
    else:
        elapsed = time.perf_counter() - gc_seconds[1]
        gc_seconds[0] += elapsed
        if stack:
            stack[-1][2] += elapsed


gc.callbacks.append(_gc)


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not main_thread:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                exclusive[name] += elapsed
                if stack:  # the main thread was waiting for this
                    stack[-1][2] += elapsed
        frame = [name, time.perf_counter(), 0.0]
        stack.append(frame)
        try:
            return function(*args, **kwargs)
        finally:
            stack.pop()
            elapsed = time.perf_counter() - frame[1]
            exclusive[name] += elapsed - frame[2]
            if stack:
                stack[-1][2] += elapsed

    return wrapper


def wrap(owner: Any, attribute: str, name: str) -> None:
    setattr(owner, attribute, timed(name, getattr(owner, attribute)))


def report() -> None:
    total = time.perf_counter() - started[0]
    accounted = sum(exclusive.values()) + gc_seconds[0]
    rows = [*exclusive.items(), ("garbage collection", gc_seconds[0]), ("other", total - accounted)]
    print(f"\n{'where the time of one airflow-ml run went':<58} {'s':>7} {'share':>6}", file=sys.stderr)
    for name, seconds in sorted(rows, key=lambda row: -row[1]):
        print(f"{name:<58} {seconds:>7.2f} {100 * seconds / total:>5.0f}%", file=sys.stderr)
    print(
        f"{'total (to the end of the command, before interpreter exit)':<58} {total:>7.2f}", file=sys.stderr
    )


def warm_up() -> float:
    """What the run server builds before it forks; seconds it took."""
    from airflow_ml_provider.cli import warm

    began = time.perf_counter()
    warm.build()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - began


def in_a_child(command: Any) -> None:
    """Run ``command`` in a forked child with fresh counters, as the run server does; exit with it."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    started[0] = time.perf_counter()
    exclusive.clear()
    gc_seconds[:] = [0.0, 0.0]
    code = 0
    try:
        command()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    finally:
        report()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    served = "--served" in sys.argv[1:]
    arguments = [argument for argument in sys.argv[1:] if argument != "--served"]
    warm_seconds = warm_up() if served else 0.0
    frame = ["import Airflow and the provider", time.perf_counter(), 0.0]
    stack.append(frame)
    import airflow_ml_provider.dag_runs  # noqa: F401  (Airflow, its ORM, the provider)

    stack.pop()
    exclusive[frame[0]] += time.perf_counter() - frame[1] - frame[2]

    import cadwyn.applications
    from airflow.sdk.definitions.dag import DAG
    from airflow.sdk.execution_time import supervisor

    from airflow_ml_provider import dag_runs as runs
    from airflow_ml_provider.caching import parts
    from airflow_ml_provider.cli import main as cli_main
    from airflow_ml_provider.cli import run as cli_run
    from airflow_ml_provider.sensors.reuse import StepReuseSensor
    from airflow_ml_provider.tracking import runs as tracking_runs

    wrap(runs, "load_pipeline", "parse the DAG file (and sync it)")
    wrap(DAG, "test", "dag.test: scheduling loop, bundle re-parse, XCom")
    wrap(cadwyn.applications.Cadwyn, "_cadwyn_initialize", "execution API start (route generation, once)")
    wrap(supervisor.InProcessTestSupervisor, "start", "per-task start and finish (execution API calls)")
    wrap(StepReuseSensor, "execute", "reuse sensors: fingerprint, lookup, record, XCom, skip")
    wrap(parts, "installed_packages_digest", "installed packages digest")
    wrap(tracking_runs.Tracker, "__init__", "MLflow: import and store start (migration check)")
    for method in ("experiment_id", "pipeline_run", "start_step_run", "end_run", "metrics", "log_metrics"):
        wrap(tracking_runs.Tracker, method, "MLflow: calls (experiment, runs, metrics)")
    wrap(runs, "step_summaries", "read the run back (task states, XCom)")
    wrap(cli_run, "_print_tracking", "MLflow: the run's tracking summary")
    sys.argv = ["airflow-ml", "run", *arguments]
    if served:
        print(
            f"run server warm-up (once per server; not in the table below): {warm_seconds:.2f} s",
            file=sys.stderr,
        )
        in_a_child(cli_main)
    atexit.register(report)
    cli_main()


if __name__ == "__main__":
    main()
