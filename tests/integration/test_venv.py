"""The ``venv`` kind: a step whose requirements the worker lacks runs in a virtualenv built once.

``roman`` (small, pure Python, no dependencies) is not installed in the worker's environment; the machine's
configured package index provides it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path

DAG_FILE = """
from airflow.sdk import DAG
from airflow_ml_provider import PipelineData, PythonScriptStep
from airflow_ml_provider.pipeline.environment import Environment

out = PipelineData("pretty")
with DAG("venv_pipeline", schedule=None):
    PythonScriptStep(name="pretty", script_name="pretty.py", source_directory="venv_steps",
                     arguments=["--output", out], outputs=[out], compute_target="ml_venv_test",
                     environment=Environment(requirements="venv_steps/requirements.txt"))
"""

PRETTY = """
import argparse, json, os, sys
import roman
parser = argparse.ArgumentParser()
parser.add_argument("--output")
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)
json.dump({"pretty": roman.toRoman(1990), "python": sys.executable},
          open(os.path.join(args.output, "pretty.json"), "w"))
"""


def test_step_runs_in_a_venv_built_once_and_rebuilt_when_requirements_change(
    airflow_db, dags_folder, monkeypatch, tmp_path, capfd
):
    assert importlib.util.find_spec("roman") is None, "pick a package the worker does not have"
    envs = tmp_path / "envs"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ML_VENV_TEST",
        json.dumps({"conn_type": "mlcomputevenv", "extra": {"envs_root": str(envs)}}),
    )
    steps_folder = dags_folder / "venv_steps"
    steps_folder.mkdir()
    (steps_folder / "pretty.py").write_text(PRETTY)
    requirements = steps_folder / "requirements.txt"
    requirements.write_text("roman\n")
    (dags_folder / "venv_pipeline.py").write_text(DAG_FILE)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("venv_steps/\n")
    dag_file = str(dags_folder / "venv_pipeline.py")

    dag_run, steps = run_pipeline("venv_pipeline", dag_file=dag_file)
    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    built = re.search(r"built venv (\w+) in ([\d.]+) s", log)
    assert built, log[-4000:]
    digest = built.group(1)
    output = local_path(steps[0].outputs["pretty"]["uri"])
    assert output is not None
    result = json.loads((output / "pretty.json").read_text())
    assert result["pretty"] == "MCMXC"
    assert result["python"] == str(envs / digest / "bin" / "python")
    assert sorted(p.name for p in envs.iterdir()) == [digest, f"{digest}.lock"]  # no half-made build

    # Same requirements: the step is reused, so run it again on purpose to time the venv reuse.
    dag_run, steps = run_pipeline("venv_pipeline", {"regenerate_outputs": True}, dag_file=dag_file)
    log = "".join(capfd.readouterr())
    assert str(dag_run.state) == "success", log[-4000:]
    assert f"reusing venv {digest}" in log
    assert "built venv" not in log

    _, steps = run_pipeline("venv_pipeline", dag_file=dag_file)
    assert steps[0].status == "reused"

    requirements.write_text("roman>=4\n")
    dag_run, steps = run_pipeline("venv_pipeline", dag_file=dag_file)
    log = "".join(capfd.readouterr())
    assert steps[0].status == "ran", log[-4000:]
    rebuilt = re.search(r"built venv (\w+) in", log)
    assert rebuilt and rebuilt.group(1) != digest


def test_a_failed_build_leaves_nothing_half_made(tmp_path: Path) -> None:
    from airflow_ml_provider.compute.errors import ComputeError
    from airflow_ml_provider.compute.venv import ensure_venv

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("this-package-does-not-exist-anywhere==0.0.1\n")
    with pytest.raises(ComputeError, match="building the virtualenv"):
        ensure_venv(requirements, None, tmp_path / "envs", info=print)
    assert [p.name for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")] == []


BUILD_ONE = """
import sys
from pathlib import Path
from airflow_ml_provider.compute.venv import ensure_venv
ensure_venv(Path(sys.argv[1]), None, Path(sys.argv[2]), info=print)
"""


def test_parallel_steps_build_one_venv_between_them(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("roman\n")
    envs = tmp_path / "envs"
    builders = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD_ONE, str(requirements), str(envs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    logs = [builder.communicate(timeout=300)[0] for builder in builders]

    assert [builder.returncode for builder in builders] == [0, 0, 0], logs
    assert sum("built venv" in log for log in logs) == 1, logs
    assert sum("reusing venv" in log for log in logs) == 2, logs
    assert len([p for p in envs.iterdir() if not p.name.endswith(".lock")]) == 1
