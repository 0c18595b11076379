"""A pipeline spec whose steps are a published module, run for real (``dag.test()``) twice:
the second run reuses both steps; a new default version re-runs only what runs it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from airflow_ml_provider.dag_runs import StepSummary, run_pipeline
from airflow_ml_provider.modules.publish import publish, read_definition
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.spec_dag import loader_source

SPEC = {
    "version": 1,
    "dag_id": "module_spec_pipeline",
    "parameters": {"n": 10},
    "steps": [
        {"name": "first", "kind": "module", "module": "AddNumbers", "outputs": {"total": "first_sum"},
         "parameters": {"number": 3}},
        {"name": "second", "kind": "module", "module": "AddNumbers", "version": "1",
         "inputs": {"earlier": "first_sum"}, "outputs": {"total": "second_sum"},
         "parameters": {"number": {"parameter": "n"}}},
    ],
}  # fmt: skip


def _sum(steps: list[StepSummary], name: str) -> str:
    (step,) = [s for s in steps if name in s.outputs]
    path = local_path(step.outputs[name]["uri"])
    assert path is not None
    return (path / "sum.txt").read_text()


def test_a_spec_with_module_steps_runs_and_is_reused(
    airflow_db: Path, dags_folder: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    module = tmp_path / "add_numbers"
    shutil.copytree(dags_folder / "modules" / "add_numbers", module)
    publish(read_definition(module / "module.yaml"))
    # A DAG runs from the DAGs folder: the spec and its loader go there for this test only.
    folder = dags_folder / "module_spec_test"
    folder.mkdir()
    request.addfinalizer(lambda: shutil.rmtree(folder))
    (folder / "module_spec_pipeline.pipeline.yaml").write_text(yaml.safe_dump(SPEC))
    loader = folder / "module_spec_pipeline.py"
    loader.write_text(loader_source("module_spec_pipeline.pipeline.yaml"))

    first, steps = run_pipeline("module_spec_pipeline", dag_file=str(loader))
    second, again = run_pipeline("module_spec_pipeline", dag_file=str(loader))
    # Version 2, in its own folder (a published version's files never change): adds twice.
    shutil.copytree(module, tmp_path / "add_numbers_v2")
    script = tmp_path / "add_numbers_v2" / "add.py"
    script.write_text(script.read_text().replace("earlier + args.number", "earlier + 2 * args.number"))
    newer, _ = publish(
        replace(read_definition(tmp_path / "add_numbers_v2" / "module.yaml"), make_default=True)
    )
    third, last = run_pipeline("module_spec_pipeline", dag_file=str(loader))

    assert str(first.state) == str(second.state) == str(third.state) == "success"
    assert {s.name: s.status for s in steps} == {"first": "ran", "second": "ran"}
    assert (_sum(steps, "first_sum"), _sum(steps, "second_sum")) == ("3", "13")
    assert {s.name: s.status for s in again} == {"first": "reused", "second": "reused"}
    # "first" runs the default version (now 2), "second" names version 1: reused, but its input changed.
    assert newer.version == "2"
    assert {s.name: s.status for s in last} == {"first": "ran", "second": "ran"}
    assert _sum(last, "first_sum") == "6"
    assert _sum(last, "second_sum") == "16"
