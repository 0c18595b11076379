"""Pipeline spec files (YAML): parsing, the DAG factory, and `airflow-ml validate` on specs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_ml_provider.caching.parts import arguments_part, step_part
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.spec import (
    PipelineSpecError,
    dump_document,
    load_document,
    parse_spec,
    spec_problems,
)
from airflow_ml_provider.rendered import pipeline_of
from airflow_ml_provider.spec_dag import build_dag, dag_from_spec, loader_source

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
AIRFLOW_ML = Path(sys.executable).parent / "airflow-ml"


def _python_dag(path: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    (dag,) = bag.dags.values()
    return dag


def _step_view(step: Any) -> dict[str, Any]:
    """What decides a step's tasks and its fingerprint, apart from the files it reads."""
    view = {
        "kind": step.kind,
        "inputs": [
            (d.name, type(d).__name__, getattr(d, "path_on_datastore", None), d.mode) for d in step.inputs
        ],
        "outputs": [(d.name, d.is_directory, d.datastore) for d in step.outputs],
        "compute_target": step.compute_target,
        "allow_reuse": step.allow_reuse,
    }
    if step.kind != "data_transfer":
        view |= {
            "part": step_part(step),
            "arguments": arguments_part(step),
            "parameters": sorted(step.parameters),
            "source_directory": step.source_directory,
            "register_model": getattr(step, "register_model", None),
            "hyperparameters": {k: str(v) for k, v in getattr(step, "hyperparameters", {}).items()},
        }
    return view


def test_the_wine_spec_makes_the_same_pipeline_as_the_python_dag() -> None:
    python = _python_dag(DAGS / "wine_classifier.py")
    spec = dag_from_spec(DAGS / "wine_yaml.pipeline.yaml")

    assert spec.dag_id == "wine_yaml"
    assert {t: sorted(task.upstream_task_ids) for t, task in spec.task_dict.items()} == {
        t: sorted(task.upstream_task_ids) for t, task in python.task_dict.items()
    }
    assert {k: spec.params[k] for k in spec.params} == {k: python.params[k] for k in python.params}
    python_steps, spec_steps = pipeline_of(python).steps, pipeline_of(spec).steps
    assert list(spec_steps) == list(python_steps)
    for name, step in spec_steps.items():
        assert _step_view(step) == _step_view(python_steps[name]), name


def test_the_loader_file_beside_a_spec_is_its_dag() -> None:
    assert (DAGS / "wine_yaml.py").read_text() == loader_source("wine_yaml.pipeline.yaml")
    assert _python_dag(DAGS / "wine_yaml.py").dag_id == "wine_yaml"


def test_every_problem_of_a_spec_is_reported_at_once_with_its_place() -> None:
    document = {
        "version": 1,
        "dag_id": "broken_spec",
        "parameters": {"alpha": {"default": 0.5, "type": "float"}},
        "data": {"raw": {"datastore": "lake"}},
        "steps": [
            {"name": "prepare", "script": "p.py", "outputs": ["table"], "colour": "red"},
            {
                "name": "fit",
                "script": "f.py",
                "inputs": ["tabel"],
                "outputs": ["table"],
                "arguments": ["--alpha", {"parameter": "beta"}, {"data": "nowhere"}],
            },
            {"name": "../escape", "script": "x.py"},
            {"name": "copy", "kind": "data_copy"},
        ],
    }

    problems = [str(problem) for problem in spec_problems(document)]

    assert problems == [
        'DAG "broken_spec", argument "parameters.alpha.type": parameter "alpha" has type \'float\'. '
        "Use one of number, integer, string, boolean, array, object.",
        'DAG "broken_spec", argument "data.raw": data "raw" has no path. '
        "Write {datastore: name, path: folder/file.csv} (datastore default: default).",
        'DAG "broken_spec", step "prepare", argument "colour": a python_script step has an unknown key '
        "'colour'. Use only: allow_reuse, arguments, compute_target, description, environment, "
        "experiment_name, inputs, kind, name, outputs, params, run_after, script, source_directory, "
        "tracking, version.",
        'DAG "broken_spec", argument "steps[2].name": step name \'../escape\' is not a safe name: it '
        "becomes a folder name on the datastore and part of an Airflow task id. Use 1-100 letters, "
        "digits, '_' or '-', not starting with '-' (for example \"train_model\").",
        'DAG "broken_spec", step "copy", argument "kind": kind \'data_copy\' is not a step kind. '
        "Use one of python_script, estimator, data_transfer, module.",
        'DAG "broken_spec", step "fit", argument "outputs": output "table" is already produced by step '
        '"prepare"; an output must have exactly one producer. Give each step\'s output its own name.',
        'DAG "broken_spec", step "fit", argument "inputs[0]": input "tabel" is neither under data: nor '
        "an output of any step. Declare it under data: (existing data) or as another step's output.",
        'DAG "broken_spec", step "fit", argument "arguments[1]": parameter \'beta\' is not declared under '
        "parameters: (known: none declared). Declare it: parameters: {beta: {default: ...}}.",
        'DAG "broken_spec", step "fit", argument "arguments[2]": argument {data: nowhere} names data the '
        "step neither reads nor writes. Add it to inputs: or outputs:, or declare it under data:.",
    ]
    with pytest.raises(PipelineSpecError) as raised:
        parse_spec(document, source="broken.pipeline.yaml")
    assert str(raised.value).startswith("broken.pipeline.yaml: ")
    assert len(raised.value.problems) == len(problems)


def test_broken_yaml_says_where() -> None:
    with pytest.raises(PipelineSpecError) as raised:
        load_document("dag_id: x\nsteps:\n  - name: a\n   script: b.py\n", source="x.pipeline.yaml")

    assert str(raised.value).startswith("x.pipeline.yaml: the file is not valid YAML at line 4, column 4")


def _spec(tmp_path: Path, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    (tmp_path / "steps").mkdir(exist_ok=True)
    for step in steps:
        if "script" in step:
            (tmp_path / "steps" / step["script"]).write_text("print('hi')\n")
    return {"version": 1, "dag_id": "spec_graph", "steps": steps, **extra}


def test_what_needs_the_whole_graph_is_checked_when_the_spec_becomes_a_dag(tmp_path: Path) -> None:
    document = _spec(
        tmp_path,
        [
            {"name": "a", "script": "a.py", "source_directory": "steps", "outputs": ["x"]},
            {"name": "b", "script": "b.py", "source_directory": "steps", "inputs": ["x"], "run_after": ["c"]},
            {"name": "c", "script": "c.py", "source_directory": "steps", "run_after": ["b"]},
        ],
    )

    with pytest.raises(PipelineDefinitionError) as raised:
        build_dag(parse_spec(document), tmp_path)

    assert 'DAG "spec_graph", step "c", argument "run_after": ordering it after "b" makes a cycle' in str(
        raised.value
    )


def test_a_missing_script_is_refused_as_in_python(tmp_path: Path) -> None:
    document = _spec(tmp_path, [{"name": "a", "script": "a.py", "source_directory": "steps"}])
    document["steps"][0]["script"] = "missing.py"

    with pytest.raises(PipelineDefinitionError) as raised:
        build_dag(parse_spec(document), tmp_path)

    assert (
        'DAG "spec_graph", step "a", argument "script_name": script_name \'missing.py\' is not a file'
        in str(raised.value)
    )


def test_a_spec_survives_being_written_back() -> None:
    document = load_document((DAGS / "wine_yaml.pipeline.yaml").read_text())

    again = load_document(dump_document(document))

    assert again == document
    assert parse_spec(again).steps == parse_spec(document).steps


def test_the_spec_parser_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_ml_provider.pipeline.spec as s; "
        "s.parse_spec(s.load_document(open(sys.argv[1]).read())); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'airflow'], 'airflow imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(DAGS / "wine_yaml.pipeline.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_cli_validate_reads_spec_files(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    good = _spec(folder, [{"name": "a", "script": "a.py", "source_directory": "steps", "outputs": ["x"]}])
    (folder / "good.pipeline.yaml").write_text(yaml.safe_dump(good))
    bad = {**good, "dag_id": "bad_spec", "steps": [{"name": "b", "script": "b.py", "inputs": ["nope"]}]}
    (folder / "bad.pipeline.yaml").write_text(yaml.safe_dump(bad))
    env = {"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}

    result = subprocess.run(
        [str(AIRFLOW_ML), "validate", str(folder)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"ok {folder / 'good.pipeline.yaml'} (DAG spec_graph)" in result.stdout
    assert f"error {folder / 'bad.pipeline.yaml'}: " in result.stdout
    assert (
        'DAG "bad_spec", step "b", argument "inputs[0]": input "nope" is neither under data:' in result.stdout
    )
