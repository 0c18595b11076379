"""Parsing a generated 200-step pipeline against the same DAG built from plain operators.

Writes two DAG files into a temp folder:

- ``bench_parse_pipeline``: N chained ``PythonScriptStep`` steps (each reads the previous
  step's output), on a named compute target ``bench_cpu`` whose connection gives a queue;
- ``bench_parse_baseline``: the same DAG from stock operators of the same kinds: N task
  groups of a ``PythonSensor`` "reuse" (reschedule mode, as ``<step>.reuse`` is a sensor) and
  a ``PythonOperator`` "run" (with the queue set), chained;
- ``bench_parse_operators``: the same with a ``PythonOperator`` in place of the sensor (shown
  for information: a sensor costs Airflow more to build than a plain operator).

Each repetition parses both files, in alternating order, the way the DAG processor does
(``DagBag`` of the one file: import, cluster policies, validation), and then serialises the
DAG (``DagSerialization.to_dict``), as the DAG processor also does. Medians are printed.
The compute target's connection is an environment variable, so a lookup here is cheap;
in a deployment it is a metadata-DB or secrets-backend call. The script counts how many
connection lookups one parse of the pipeline made.

RESULT: median pipeline parse / median ``bench_parse_baseline`` parse (target <= 1.5). No time
is asserted.

    .venv/bin/python benchmarks/parse_pipeline.py [--steps 200] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5
PIPELINE_DAG = "bench_parse_pipeline"
BASELINE_DAG = "bench_parse_baseline"
OPERATORS_DAG = "bench_parse_operators"
QUEUE = "bench_queue"

PIPELINE_FILE = """
from airflow.sdk import DAG

from airflow_ml_provider import PipelineData, PythonScriptStep

with DAG("{dag}", schedule=None, catchup=False):
    previous = None
    for index in range({steps}):
        output = PipelineData(f"out_{{index:03d}}")
        arguments = ["--output", output]
        if previous is not None:
            arguments += ["--input", previous]
        PythonScriptStep(
            name=f"step_{{index:03d}}",
            script_name="step.py",
            source_directory="bench_parse",
            arguments=arguments,
            inputs=[previous] if previous is not None else [],
            outputs=[output],
            compute_target="bench_cpu",
        )
        previous = output
"""

BASELINE_FILE = """
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import DAG, TaskGroup


def noop() -> bool:
    return True


with DAG("{dag}", schedule=None, catchup=False):
    previous = None
    for index in range({steps}):
        with TaskGroup(group_id=f"step_{{index:03d}}") as group:
            reuse = {reuse}
            run = PythonOperator(task_id="run", python_callable=noop, queue="{queue}")
            reuse >> run
        if previous is not None:
            previous >> group
        previous = group
"""


def set_up(steps: int) -> Path:
    """A private AIRFLOW_HOME and the DAG files; the environment is set before Airflow loads."""
    assert "airflow" not in sys.modules, "Airflow was imported before its environment was set"
    home = Path(tempfile.mkdtemp(prefix="aml-bench-parse-"))
    dags = home / "dags"
    (dags / "bench_parse").mkdir(parents=True)
    (dags / "bench_parse" / "step.py").write_text("print('step')\n")
    (dags / f"{PIPELINE_DAG}.py").write_text(PIPELINE_FILE.format(dag=PIPELINE_DAG, steps=steps))
    sensor = 'PythonSensor(task_id="reuse", python_callable=noop, mode="reschedule")'
    operator = 'PythonOperator(task_id="reuse", python_callable=noop)'
    for dag_id, reuse in ((BASELINE_DAG, sensor), (OPERATORS_DAG, operator)):
        text = BASELINE_FILE.format(dag=dag_id, steps=steps, queue=QUEUE, reuse=reuse)
        (dags / f"{dag_id}.py").write_text(text)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_BENCH_CPU": json.dumps(
                {"conn_type": "ml_compute", "extra": {"kind": "local", "queue": QUEUE}}
            ),
        }
    )
    return home


def parse(path: Path) -> tuple[float, float, object]:
    """(parse seconds, serialise seconds, the DAG) for one DAG file, as the DAG processor does it."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path), safe_mode=False)
    parsed = time.perf_counter()
    if bag.import_errors or len(bag.dags) != 1:
        sys.exit(f"{path.name} did not parse: {bag.import_errors}")
    dag = next(iter(bag.dags.values()))
    DagSerialization.to_dict(dag)
    return parsed - started, time.perf_counter() - parsed, dag


def connection_lookups(path: Path) -> int:
    """How many connection lookups one parse of ``path`` makes."""
    from airflow.sdk import BaseHook

    original = BaseHook.get_connection.__func__  # type: ignore[attr-defined]
    calls = 0

    def counting(cls: type, conn_id: str) -> object:
        nonlocal calls
        calls += 1
        return original(cls, conn_id)

    BaseHook.get_connection = classmethod(counting)  # type: ignore[method-assign,assignment]
    try:
        parse(path)
    finally:
        BaseHook.get_connection = classmethod(original)  # type: ignore[method-assign,assignment]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    home = set_up(args.steps)
    dags = home / "dags"
    files = {
        "pipeline": dags / f"{PIPELINE_DAG}.py",
        "baseline": dags / f"{BASELINE_DAG}.py",
        "operators": dags / f"{OPERATORS_DAG}.py",
    }
    try:
        for path in files.values():  # imports and first-parse caches, untimed
            parse(path)
        _, _, dag = parse(files["pipeline"])
        run_queues = {task.queue for task in dag.tasks if task.task_id.endswith(".run")}  # type: ignore[attr-defined]
        print(
            f"{args.steps} steps -> {len(dag.tasks)} tasks; "  # type: ignore[attr-defined]
            f"queue of the .run tasks: {', '.join(sorted(run_queues))}"
        )
        lookups = connection_lookups(files["pipeline"])
        print(f"connection lookups during one parse of the pipeline: {lookups}")
        timings: dict[str, list[tuple[float, float]]] = {which: [] for which in files}
        for rep in range(args.reps):
            order = list(files) if rep % 2 == 0 else list(reversed(files))
            for which in order:
                parse_s, serialise_s, _ = parse(files[which])
                timings[which].append((parse_s, serialise_s))

        print(f"\n{'median of ' + str(args.reps) + ', alternating':<42} {'parse s':>9} {'serialise s':>12}")
        medians = {}
        labels = {
            "pipeline": "pipeline (steps)",
            "baseline": "baseline: PythonSensor + PythonOperator",
            "operators": "(info) 2 x PythonOperator",
        }
        for which, label in labels.items():
            parse_median = statistics.median(t[0] for t in timings[which])
            serialise_median = statistics.median(t[1] for t in timings[which])
            medians[which] = parse_median
            print(f"{label:<42} {parse_median:>9.3f} {serialise_median:>12.3f}")
        ratio = medians["pipeline"] / medians["baseline"]
        per_step_ms = 1000 * (medians["pipeline"] - medians["baseline"]) / args.steps
        print(f"pipeline / baseline: {ratio:.2f}; extra per step: {per_step_ms:.2f} ms")
        print(f"(info) pipeline / 2 x PythonOperator: {medians['pipeline'] / medians['operators']:.2f}")
        print(f"load average at the end: {os.getloadavg()}")
        print(f"RESULT parse_pipeline: {ratio:.2f} (target <= {TARGET})")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
