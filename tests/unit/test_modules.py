"""The module registry: publishing versions, resolving them, module steps in pipeline specs,
``airflow-ml module`` and ``airflow-ml validate`` on specs with module steps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_ml_provider.modules.publish import folder_digest, publish, read_definition
from airflow_ml_provider.modules.store import ModuleRegistry, ModuleRegistryError
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.modules import ModuleStep
from airflow_ml_provider.pipeline.spec import dump_document, load_document, parse_spec, spec_problems
from airflow_ml_provider.rendered import pipeline_of
from airflow_ml_provider.spec_dag import build_dag

AIRFLOW_ML = Path(sys.executable).parent / "airflow-ml"

MODULE = {
    "name": "AddNumbers",
    "description": "Adds a number to an earlier sum",
    "script": "calculate.py",
    "inputs": [{"name": "in1", "optional": True}],
    "outputs": ["out_sum"],
    "parameters": {"arg2": {"default": 5, "type": "integer"}},
    "arguments": [
        "--arg1",
        {"input": "in1"},
        "--arg2",
        {"parameter": "arg2"},
        "--output_sum",
        {"output": "out_sum"},
    ],
}


@pytest.fixture
def registry_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_URL", url)
    return url


def _module(folder: Path, **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calculate.py").write_text("print('adding')\n")
    path = folder / "module.yaml"
    path.write_text(yaml.safe_dump({**MODULE, **changes}))
    return path


def _spec(steps: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"version": 1, "dag_id": "module_spec", "parameters": {"n": 7}, "steps": steps, **top}


FIRST = {"name": "first", "script": "first.py", "source_directory": "steps", "outputs": ["start"]}


def test_publishing_numbers_versions_and_keeps_each_unchanged(tmp_path: Path, registry_url: str) -> None:
    registry = ModuleRegistry(registry_url)
    definition = read_definition(_module(tmp_path / "v1"))

    first, new = publish(definition, registry)
    again, new_again = publish(definition, registry)
    (tmp_path / "v1" / "calculate.py").write_text("print('adding, faster')\n")
    second, _ = publish(read_definition(tmp_path / "v1" / "module.yaml"), registry)

    assert (first.version, new, again.version, new_again) == ("1", True, "1", False)
    assert second.version == "2" and second.digest != first.digest
    assert first.digest == folder_digest(tmp_path / "v1") or second.digest == folder_digest(tmp_path / "v1")
    assert registry.version("AddNumbers").version == "1"  # the first version stays the default
    assert [p.name for p in registry.version("AddNumbers", "2").interface.inputs] == ["in1"]
    with pytest.raises(ModuleRegistryError, match=r'already has a version "1", published from other files'):
        publish(read_definition(_module(tmp_path / "v1", version="1")), registry)


def test_unknown_modules_and_versions_say_what_exists(tmp_path: Path, registry_url: str) -> None:
    registry = ModuleRegistry(registry_url)
    publish(read_definition(_module(tmp_path / "m")), registry)

    with pytest.raises(
        ModuleRegistryError, match=r'"Nope" is not published \(published modules: AddNumbers\)'
    ):
        registry.version("Nope")
    with pytest.raises(ModuleRegistryError, match=r'has no version "9" \(versions: 1; default 1\)'):
        registry.version("AddNumbers", "9")


def test_a_module_inside_the_dags_folder_is_recorded_relative_to_it(
    dags_folder: Path, registry_url: str
) -> None:
    path = _module(dags_folder / "modules_test" / "add")

    found, _ = publish(read_definition(path), ModuleRegistry(registry_url))

    assert found.source_directory == "modules_test/add"


def test_a_module_definition_naming_an_unknown_port_is_refused(tmp_path: Path) -> None:
    path = _module(tmp_path / "m", arguments=["--x", {"input": "missing"}])

    with pytest.raises(ModuleRegistryError, match="names no port or parameter of the module"):
        read_definition(path)


def _pipeline_folder(tmp_path: Path) -> Path:
    (tmp_path / "steps").mkdir(parents=True)
    (tmp_path / "steps" / "first.py").write_text("print('first')\n")
    return tmp_path


def test_a_module_step_in_a_spec_runs_the_published_version(tmp_path: Path, registry_url: str) -> None:
    publish(read_definition(_module(tmp_path / "mod")), ModuleRegistry(registry_url))
    folder = _pipeline_folder(tmp_path / "p")
    document = _spec(
        [
            FIRST,
            {
                "name": "add",
                "kind": "module",
                "module": "AddNumbers",
                "version": "1",
                "inputs": {"in1": "start"},
                "outputs": {"out_sum": "total"},
                "parameters": {"arg2": {"parameter": "n"}},
            },
        ]
    )

    again = load_document(dump_document(document))
    spec = parse_spec(again)
    dag = build_dag(spec, folder)

    assert again == document
    assert (spec.steps[1].input_ports, spec.steps[1].output_ports) == ({"in1": "start"}, {"out_sum": "total"})
    step = pipeline_of(dag).steps["add"]
    assert isinstance(step, ModuleStep)
    assert step.version == "AddNumbers:1" and step.module_version.digest
    assert Path(step.source_directory) == (tmp_path / "mod").resolve()
    assert [d.name for d in step.inputs] == ["start"] and [d.name for d in step.outputs] == ["total"]
    assert sorted(step.parameters) == ["n"]


def test_an_optional_input_left_unconnected_drops_its_flag(tmp_path: Path, registry_url: str) -> None:
    publish(read_definition(_module(tmp_path / "mod")), ModuleRegistry(registry_url))
    folder = _pipeline_folder(tmp_path / "p")
    document = _spec(
        [{"name": "add", "kind": "module", "module": "AddNumbers", "outputs": {"out_sum": "total"}}]
    )

    step = pipeline_of(build_dag(parse_spec(document), folder)).steps["add"]

    assert [a.value for a in step.arguments][:3] == ["--arg2", "5", "--output_sum"]


@pytest.mark.parametrize(
    ("step", "where", "says"),
    [
        ({"module": "Nope"}, 'argument "module"', '"Nope" is not published'),
        ({"module": "AddNumbers", "version": "3"}, 'argument "version"', 'has no version "3"'),
        (
            {"module": "AddNumbers", "inputs": {"in9": "start"}},
            'argument "inputs.in9"',
            "has no input 'in9' (it has: in1)",
        ),
        ({"module": "AddNumbers", "outputs": {}}, 'argument "outputs"', 'output port "out_sum"'),
        (
            {"module": "AddNumbers", "parameters": {"arg9": 1}},
            'argument "parameters.arg9"',
            "has no parameter 'arg9'",
        ),
    ],
)
def test_a_module_step_that_cannot_run_is_refused_with_its_place(
    tmp_path: Path, registry_url: str, step: dict[str, Any], where: str, says: str
) -> None:
    publish(read_definition(_module(tmp_path / "mod")), ModuleRegistry(registry_url))
    folder = _pipeline_folder(tmp_path / "p")
    document = _spec([FIRST, {"name": "add", "kind": "module", "outputs": {"out_sum": "total"}, **step}])

    with pytest.raises(PipelineDefinitionError) as error:
        build_dag(parse_spec(document), folder)

    assert f'DAG "module_spec", step "add", {where}' in str(error.value)
    assert says in str(error.value)


def test_the_parser_checks_a_module_steps_shape(registry_url: str) -> None:
    document = _spec([{"name": "add", "kind": "module", "inputs": ["x"], "outputs": {"out_sum": "total"}}])

    problems = [str(p) for p in spec_problems(document)]

    assert any('step "add", argument "module": no module was given.' in p for p in problems), problems
    assert any('argument "inputs": inputs of a module step must map' in p for p in problems), problems


def test_a_disabled_version_is_refused_and_set_default_changes_what_runs(
    tmp_path: Path, registry_url: str
) -> None:
    registry = ModuleRegistry(registry_url)
    publish(read_definition(_module(tmp_path / "mod")), registry)
    (tmp_path / "mod" / "calculate.py").write_text("print(2)\n")
    publish(read_definition(tmp_path / "mod" / "module.yaml"), registry)
    folder = _pipeline_folder(tmp_path / "p")
    document = _spec([{"name": "add", "kind": "module", "module": "AddNumbers", "outputs": {"out_sum": "t"}}])

    registry.set_default("AddNumbers", "2")
    assert pipeline_of(build_dag(parse_spec(document), folder)).steps["add"].version == "AddNumbers:2"
    registry.set_status("AddNumbers", "2", "Disabled")
    with pytest.raises(
        PipelineDefinitionError, match=r'argument "version": version "2" of module "AddNumbers" is disabled'
    ):
        build_dag(parse_spec(document), folder)


def test_parsing_a_module_step_again_reads_no_database(tmp_path: Path, registry_url: str) -> None:
    # Parsing happens every few seconds in the DAG processor; the registry is a database
    # (PostgreSQL in a deployment). A parse reads it once, then remembers the version.
    from sqlalchemy import event

    from airflow_ml_provider.provider_db import engine

    publish(read_definition(_module(tmp_path / "mod")), ModuleRegistry(registry_url))
    folder = _pipeline_folder(tmp_path / "p")
    document = _spec([{"name": "add", "kind": "module", "module": "AddNumbers", "outputs": {"out_sum": "t"}}])
    statements: list[str] = []

    def note(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(engine(registry_url), "before_cursor_execute", note)
    try:
        first = pipeline_of(build_dag(parse_spec(document), folder)).steps["add"]
        read_by_first = len(statements)
        second = pipeline_of(build_dag(parse_spec(document), folder)).steps["add"]
    finally:
        event.remove(engine(registry_url), "before_cursor_execute", note)
    assert read_by_first > 0 and len(statements) == read_by_first
    assert second.version == first.version == "AddNumbers:1"
    assert second.module_version.digest == first.module_version.digest


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AIRFLOW_ML), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=180
    )


def test_cli_publish_list_and_validate(tmp_path: Path) -> None:
    env = {
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__ML_PIPELINES__CACHE_URL": f"sqlite:///{tmp_path / 'provider.db'}",
        "COLUMNS": "200",
    }
    path = _module(tmp_path / "mod")
    folder = _pipeline_folder(tmp_path / "dags")
    good = _spec(
        [
            FIRST,
            {
                "name": "add",
                "kind": "module",
                "module": "AddNumbers",
                "inputs": {"in1": "start"},
                "outputs": {"out_sum": "t"},
            },
        ]
    )
    (folder / "good.pipeline.yaml").write_text(yaml.safe_dump(good))
    bad = {**good, "dag_id": "bad_module_spec"}
    bad["steps"] = [FIRST, {**good["steps"][1], "version": "4"}]
    (folder / "bad.pipeline.yaml").write_text(yaml.safe_dump(bad))

    published = _cli("module", "publish", str(path), env=env)
    listed = _cli("module", "list", env=env)
    checked = _cli("validate", str(folder), env=env)
    (tmp_path / "mod" / "calculate.py").write_text("print('edited after publishing')\n")
    changed = _cli("validate", str(folder / "good.pipeline.yaml"), env=env)

    assert published.returncode == 0, published.stdout + published.stderr
    assert "module AddNumbers published version 1 (default)" in published.stdout
    assert "AddNumbers" in listed.stdout and "out_sum" in listed.stdout
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"ok {folder / 'good.pipeline.yaml'} (DAG module_spec)" in checked.stdout
    assert (
        'DAG "bad_module_spec", step "add", argument "version": module "AddNumbers" has no version "4"'
        in checked.stdout
    )
    assert changed.returncode == 1
    assert 'step "add", argument "module": the files of module "AddNumbers" version "1"' in changed.stdout
    assert "changed since it was published" in changed.stdout


def test_v1_module_get_and_publish_outside_dag_files(tmp_path: Path, registry_url: str) -> None:
    from airflow_ml_provider.v1 import InputPortDef, Module, OutputPortDef, PipelineData, Workspace

    ws = Workspace.from_config()
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "calculate.py").write_text("print(1)\n")
    module = Module.create(ws, name="Adder", description="adds")
    published = module.publish_python_script(
        "calculate.py",
        "first",
        inputs=[InputPortDef("in1")],
        outputs=[OutputPortDef("out_sum")],
        version="1",
        source_directory=os.path.relpath(tmp_path / "v1", Path(__file__).parent),
    )

    found = Module.get(ws, name="Adder")

    assert published.digest and found.default_version == "1"
    assert found.resolve("1").digest == published.digest
    assert ModuleRegistry(registry_url).version("Adder").interface.inputs[0].name == "in1"
    step = ModuleStep(module=found, outputs_map={"out_sum": PipelineData("s")}, name="adder")
    assert step.version == "Adder:1"


def test_a_dag_file_publishing_a_module_writes_nothing_while_parsed(
    tmp_path: Path, registry_url: str
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "calculate.py").write_text("print(1)\n")
    (tmp_path / "module_dag.py").write_text(
        "from airflow_ml_provider.v1 import (\n"
        "    Module, ModuleStep, OutputPortDef, Pipeline, PipelineData, Workspace,\n"
        ")\n"
        "ws = Workspace.from_config()\n"
        "out = OutputPortDef('out_sum')\n"
        "module = Module.create(ws, name='InFileOnly')\n"
        "module.publish_python_script(\n"
        "    'calculate.py', 'v1', inputs=[], outputs=[out], source_directory='steps'\n"
        ")\n"
        "step = ModuleStep(module=module, outputs_map={out: PipelineData('s')}, arguments=['--out', "
        "PipelineData('s')], name='calc')\n"
        "pipeline = Pipeline(workspace=ws, steps=[step], dag_id='in_file_module')\n"
    )

    bag = DagBag(dag_folder=str(tmp_path / "module_dag.py"), safe_mode=False)

    assert not bag.import_errors, bag.import_errors
    assert "in_file_module" in bag.dags
    assert ModuleRegistry(registry_url).names() == []
