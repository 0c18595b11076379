"""A fully reused 10-step pipeline run against a same-shaped DAG of no-op tasks.

Sets up a private AIRFLOW_HOME in a temp dir (environment first, then Airflow is
imported; ``airflow db migrate`` in a subprocess) and writes two DAG files into its
dags folder:

- ``bench_reuse_pipeline``: 10 PythonScriptStep steps in a chain; each runs a tiny script
  that reads the previous step's output (a counter in a text file) and writes its own.
  Rendered by the provider as 10 task groups of ``<step>.reuse`` (sensor) >> ``<step>.run``.
- ``bench_reuse_baseline``: the same shape -- 10 task groups of two no-op tasks, chained
  the same way -- made of ``PythonOperator(python_callable=lambda: None)``. Not
  EmptyOperator: Airflow never executes EmptyOperator tasks (the scheduler marks them
  success without running them), so that baseline would skip the per-task cost that
  every real task pays and would not be comparable.

The pipeline runs once cold (every step "ran"); the baseline once untimed (its first
parse and serialisation). Then, alternating, the reused pipeline run and the baseline
run are timed 3 times each, each measured the same way: parse the DAG file
(``get_bagged_dag``), ``dag.test()``, read back the task states. Every timed pipeline run
must have every step "reused". Task logs go to a file, not to the table.

    .venv/bin/python benchmarks/reused_pipeline.py [--reps 3] [--log-level WARNING]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

STEPS = 10
TARGET = 1.25
PIPELINE_DAG = "bench_reuse_pipeline"
BASELINE_DAG = "bench_reuse_baseline"

PIPELINE_FILE = f'''
"""{STEPS} chained steps, each reading the previous step's output: for benchmarks/reused_pipeline.py."""

from airflow.sdk import DAG

from airflow_ml_provider import PipelineData, PythonScriptStep

with DAG("{PIPELINE_DAG}", schedule=None, catchup=False):
    previous = None
    for index in range({STEPS}):
        output = PipelineData(f"out_{{index:02d}}")
        arguments = ["--output", output]
        if previous is not None:
            arguments += ["--input", previous]
        PythonScriptStep(
            name=f"step_{{index:02d}}",
            script_name="step.py",
            source_directory="bench_reuse",
            arguments=arguments,
            inputs=[previous] if previous is not None else [],
            outputs=[output],
        )
        previous = output
'''

STEP_SCRIPT = '''
"""Read the previous step's counter (if any), write counter + 1."""

import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--output", required=True)
parser.add_argument("--input")
args = parser.parse_args()
count = 0
if args.input:
    with open(os.path.join(args.input, "count.txt")) as handle:
        count = int(handle.read())
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "count.txt"), "w") as handle:
    handle.write(str(count + 1))
'''

BASELINE_FILE = f'''
"""Same shape as {PIPELINE_DAG}, every task a no-op PythonOperator (not EmptyOperator,
which Airflow never executes)."""

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, TaskGroup

with DAG("{BASELINE_DAG}", schedule=None, catchup=False):
    previous = None
    for index in range({STEPS}):
        with TaskGroup(group_id=f"step_{{index:02d}}") as group:
            reuse = PythonOperator(task_id="reuse", python_callable=lambda: None)
            run = PythonOperator(task_id="run", python_callable=lambda: None)
            reuse >> run
        if previous is not None:
            previous >> group
        previous = group
'''


def set_up_home(log_level: str) -> Path:
    """A private AIRFLOW_HOME; the environment must be set before Airflow is imported."""
    assert "airflow" not in sys.modules, "Airflow was imported before its environment was set"
    home = Path(tempfile.mkdtemp(prefix="aml-bench-reuse-"))
    dags = home / "dags"
    (dags / "bench_reuse").mkdir(parents=True)
    (dags / f"{PIPELINE_DAG}.py").write_text(PIPELINE_FILE.lstrip())
    (dags / f"{BASELINE_DAG}.py").write_text(BASELINE_FILE.lstrip())
    (dags / "bench_reuse" / "step.py").write_text(STEP_SCRIPT.lstrip())
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
        }
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"airflow db migrate failed:\n{result.stderr[-3000:]}")
    print(f"AIRFLOW_HOME {home}: db migrate {time.perf_counter() - started:.1f} s")
    return home


@contextlib.contextmanager
def output_to(log: Path) -> Iterator[None]:
    """Send this process's stdout/stderr (task logs included) to ``log`` for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def task_states(dag_id: str, run_id: str) -> dict[str, tuple[str | None, float | None]]:
    """task id -> (state, duration in seconds) for one run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return {
            ti.task_id: (str(ti.state) if ti.state is not None else None, ti.duration)
            for ti in session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            )
        }


def run_reused_pipeline(dags: Path) -> tuple[float, str, list[tuple[str, str]]]:
    from airflow_ml_provider.dag_runs import run_pipeline

    start = time.perf_counter()
    dag_run, steps = run_pipeline(PIPELINE_DAG, dag_file=str(dags / f"{PIPELINE_DAG}.py"))
    elapsed = time.perf_counter() - start
    return elapsed, dag_run.run_id, [(s.name, s.status) for s in steps]


def run_baseline(dags: Path) -> tuple[float, str, dict[str, tuple[str | None, float | None]]]:
    """Measured like run_pipeline: parse the file, dag.test(), read the task states back."""
    from airflow.utils.cli import get_bagged_dag

    start = time.perf_counter()
    dag = get_bagged_dag(None, BASELINE_DAG, dagfile_path=str(dags / f"{BASELINE_DAG}.py"))
    dag_run = dag.test()
    states = task_states(BASELINE_DAG, dag_run.run_id)
    elapsed = time.perf_counter() - start
    return elapsed, dag_run.run_id, states


def mean_durations(states: dict[str, tuple[str | None, float | None]]) -> str:
    by_kind: dict[str, list[float]] = {}
    for task_id, (_, duration) in states.items():
        if duration is not None:  # a skipped task has none
            by_kind.setdefault(task_id.rsplit(".", 1)[-1], []).append(duration)
    return ", ".join(
        f"mean .{kind} {statistics.mean(values):.3f} s x{len(values)}"
        for kind, values in sorted(by_kind.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--log-level", default="WARNING", help="Airflow logging level during the runs")
    parser.add_argument("--keep", action="store_true", help="keep the temp AIRFLOW_HOME")
    args = parser.parse_args()

    home = set_up_home(args.log_level)
    dags = home / "dags"
    log = home / "runs.log"
    try:
        with output_to(log):
            cold_s, _, cold_steps = run_reused_pipeline(dags)
        print(f"cold pipeline run: {cold_s:.2f} s, steps: {' '.join(status for _, status in cold_steps)}")
        if [status for _, status in cold_steps] != ["ran"] * STEPS:
            sys.exit(f"the cold run did not run every step: {cold_steps} (task logs: {log})")
        with output_to(log):
            warmup_s, _, _ = run_baseline(dags)
        print(f"baseline warm-up run (untimed): {warmup_s:.2f} s")
        print(
            "baseline: 10 task groups x 2 no-op PythonOperator(python_callable=lambda: None) tasks; "
            "EmptyOperator is not used because Airflow never executes EmptyOperator tasks, "
            "which would make the baseline not comparable"
        )

        sensor_s: list[float] = []
        noop_s: list[float] = []
        pipeline_s: list[float] = []
        baseline_s: list[float] = []
        for rep in range(args.reps):
            order = ("pipeline", "baseline") if rep % 2 == 0 else ("baseline", "pipeline")
            for which in order:
                if which == "pipeline":
                    with output_to(log):
                        elapsed, run_id, steps = run_reused_pipeline(dags)
                    statuses = [status for _, status in steps]
                    all_reused = statuses == ["reused"] * STEPS
                    pipeline_s.append(elapsed)
                    states = task_states(PIPELINE_DAG, run_id)
                    sensor_s += [d for t, (_, d) in states.items() if t.endswith(".reuse") and d is not None]
                    print(
                        f"rep {rep + 1} pipeline {elapsed:6.2f} s  reused {statuses.count('reused')}/{STEPS}"
                        f"  [{mean_durations(states)}]"
                    )
                    if not all_reused:
                        sys.exit(f"a timed pipeline run did not reuse every step: {steps} (task logs: {log})")
                else:
                    with output_to(log):
                        elapsed, run_id, states = run_baseline(dags)
                    baseline_s.append(elapsed)
                    noop_s += [d for _, d in states.values() if d is not None]
                    succeeded = sum(state == "success" for state, _ in states.values())
                    print(
                        f"rep {rep + 1} baseline {elapsed:6.2f} s  success {succeeded}/{2 * STEPS}"
                        f"  [{mean_durations(states)}]"
                    )
                    if succeeded != 2 * STEPS:
                        sys.exit(f"the baseline run failed: {states} (task logs: {log})")

        pipeline, baseline = statistics.median(pipeline_s), statistics.median(baseline_s)
        print()
        heading = f"run ({args.reps} each, alternating)"
        print(f"{heading:<44} {'median s':>9} {'min s':>7} {'max s':>7}")
        print(f"{'cold pipeline, every step ran (once)':<44} {cold_s:>9.2f} {cold_s:>7.2f} {cold_s:>7.2f}")
        print(
            f"{'reused pipeline, 10 steps (20 tasks)':<44} {pipeline:>9.2f} "
            f"{min(pipeline_s):>7.2f} {max(pipeline_s):>7.2f}"
        )
        print(
            f"{'baseline, 20 no-op PythonOperator tasks':<44} {baseline:>9.2f} "
            f"{min(baseline_s):>7.2f} {max(baseline_s):>7.2f}"
        )
        print(f"every step reused in all {args.reps} timed pipeline runs: yes")
        print(
            "executed tasks per run: reused pipeline 10 .reuse sensors (its 10 .run tasks are skipped), "
            "baseline 20 no-op tasks"
        )
        print(
            "median task duration (Airflow's own start/end): "
            f".reuse sensor {statistics.median(sensor_s):.3f} s, "
            f"no-op PythonOperator {statistics.median(noop_s):.3f} s"
        )
        print(f"reused / baseline: {pipeline / baseline:.2f}; cold / reused: {cold_s / pipeline:.1f}")
        print(f"load average at the end: {os.getloadavg()}")
        print(f"RESULT reused_pipeline: {pipeline / baseline:.2f} (target <= {TARGET})")
    finally:
        if args.keep:
            print(f"kept {home} (task logs: {log})")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
