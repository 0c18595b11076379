"""``airflow-ml run`` refuses what it cannot run with one line, before any DAG run starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AIRFLOW_ML = str(Path(sys.executable).parent / "airflow-ml")


def _said(output: str) -> list[str]:
    """What the command printed, without Airflow's own log lines."""
    lines = output.splitlines()
    return [line for line in lines if line.strip() and "[warning" not in line and "[info" not in line]


def _run_here(*args: str) -> tuple[int, list[str]]:
    from typer.testing import CliRunner

    from airflow_ml_provider.cli import app

    result = CliRunner().invoke(app, ["run", *args])
    return result.exit_code, _said(result.output)


def test_unknown_parameter_is_refused_naming_the_known_ones(airflow_db):
    code, said = _run_here("data_dependency", "-p", "pipline_arg=3")

    assert code == 2, said
    assert said == [
        'error pipeline "data_dependency" has no parameter "pipline_arg"; its parameters are: '
        "pipeline_arg. Run conf keys such as regenerate_outputs go in --conf."
    ]


def test_bad_parameter_value_is_one_line_not_a_traceback(airflow_db):
    # A process of its own: what matters is everything the command prints.
    result = subprocess.run(
        [AIRFLOW_ML, "run", "data_dependency", "-p", "pipeline_arg=abc"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert result.returncode == 2, result.stdout + result.stderr
    assert _said(result.stdout + result.stderr) == [
        "error pipeline \"data_dependency\", parameter \"pipeline_arg\": 'abc' is not of type 'integer'"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_pipeline_is_one_line(airflow_db):
    code, said = _run_here("no_such_pipeline")

    assert code == 2
    assert said == [
        'error pipeline "no_such_pipeline" was not found: no DAG has that id, or its DAG file failed '
        "to parse. Run `airflow-ml validate <dags folder>` to see why."
    ]
