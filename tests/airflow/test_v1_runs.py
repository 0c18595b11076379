"""Azure ML v1's run API: ``Experiment.submit``, ``wait_for_completion``, ``get_steps``,
``find_step_run``, ``get_output_data(name).download(path)`` and ``continue_on_step_failure``,
through real Airflow runs (in this process, from the DAGs folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ml_provider.dag_runs import RunRequestError
from airflow_ml_provider.v1 import Experiment, Workspace

DAG_FILE = """
from airflow_ml_provider.v1 import Pipeline, PipelineData, PipelineParameter, PythonScriptStep

counted, doubled = PipelineData("counted"), PipelineData("doubled")
count = PythonScriptStep(name="count", script_name="count.py", source_directory="v1_runs_steps",
                         arguments=["--n", PipelineParameter("n", default_value=3), "--out", counted],
                         outputs=[counted])
double = PythonScriptStep(name="double", script_name="double.py", source_directory="v1_runs_steps",
                          arguments=["--in", counted, "--out", doubled], inputs=[counted], outputs=[doubled])
boom = PythonScriptStep(name="boom", script_name="boom.py", source_directory="v1_runs_steps")
pipeline = Pipeline(steps=[double, boom], dag_id="v1_runs")
"""

COUNT = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--n"); p.add_argument("--out")
a = p.parse_args()
open(os.path.join(a.out, "n.txt"), "w").write(a.n)
"""
DOUBLE = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--in", dest="source"); p.add_argument("--out")
a = p.parse_args()
n = int(open(os.path.join(a.source, "n.txt")).read())
open(os.path.join(a.out, "n.txt"), "w").write(str(2 * n))
"""
SCRIPTS = {"count.py": COUNT, "double.py": DOUBLE, "boom.py": "import sys\nsys.exit(1)\n"}


@pytest.fixture(scope="module")
def pipeline_file(airflow_db: Path) -> Path:
    import os

    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    steps = folder / "v1_runs_steps"
    steps.mkdir()
    for name, text in SCRIPTS.items():
        (steps / name).write_text(text)
    with (folder / ".airflowignore").open("a") as ignore:
        ignore.write("v1_runs_steps/\n")
    (folder / "v1_runs.py").write_text(DAG_FILE)
    return folder / "v1_runs.py"


def test_submit_wait_steps_and_download_an_output(pipeline_file: Path, tmp_path: Path) -> None:
    experiment = Experiment(Workspace.from_config(), "v1_runs_experiment")

    run = experiment.submit("v1_runs", pipeline_parameters={"n": 21}, continue_on_step_failure=True)

    with pytest.raises(RuntimeError, match=r"pipeline run .* failed \(steps: boom\)"):
        run.wait_for_completion(show_output=True)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    assert {step.name: step.get_status() for step in run.get_steps()} == {
        "count": "Finished",
        "double": "Finished",
        "boom": "Failed",
    }
    (double,) = run.find_step_run("double")
    downloaded = double.get_output_data("doubled").download(tmp_path)
    assert (Path(downloaded) / "n.txt").read_text() == "42"
    with pytest.raises(KeyError, match='step "double" has no output "counted"'):
        double.get_output_data("counted")


def test_submit_refuses_parameters_the_pipeline_does_not_declare(pipeline_file: Path) -> None:
    with pytest.raises(
        RunRequestError, match='pipeline "v1_runs" has no parameter "m"; its parameters are: n'
    ):
        Experiment(None, "x").submit("v1_runs", pipeline_parameters={"m": 1})


def test_continue_on_step_failure_false_starts_no_step_after_a_failure(pipeline_file: Path) -> None:
    stopped = Experiment(None, "x").submit("v1_runs", pipeline_parameters={"n": 5})
    went_on = Experiment(None, "x").submit(
        "v1_runs", pipeline_parameters={"n": 6}, continue_on_step_failure=True
    )

    # boom fails while count runs; double, which starts after, is not started.
    assert {s.name: s.status for s in stopped.get_steps()} == {
        "count": "ran",
        "double": "skipped",
        "boom": "failed",
    }
    assert {s.name: s.status for s in went_on.get_steps()} == {
        "count": "ran",
        "double": "ran",
        "boom": "failed",
    }
