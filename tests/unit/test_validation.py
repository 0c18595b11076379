"""Every pipeline definition error names the DAG, the step and the argument, and says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.exceptions import AirflowClusterPolicyViolation
from airflow.sdk import DAG, Param

from airflow_ml_provider import (
    DataReference,
    PipelineData,
    PipelineDefinitionError,
    PipelineParameter,
    PythonScriptStep,
)
from airflow_ml_provider.policies import dag_policy
from airflow_ml_provider.rendered import pipeline_of

AIRFLOW_ML = Path(sys.executable).with_name("airflow-ml")

UNSAFE_NAMES = ["../x", "/abs", "", "has space"]


@pytest.fixture
def scripts(tmp_path: Path) -> str:
    """A source_directory with the scripts the steps below run."""
    for name in ("step.py", "first.py", "second.py", "consumer.py"):
        (tmp_path / name).write_text("print('hello')\n")
    return str(tmp_path)


def assert_located(error: PipelineDefinitionError, dag_id: str, step: str, argument: str) -> None:
    assert (error.dag_id, error.step, error.argument) == (dag_id, step, argument)
    assert f'DAG "{dag_id}", step "{step}", argument "{argument}": ' in str(error)


def write_dag_folder(folder: Path, files: dict[str, str]) -> Path:
    """DAG files in ``folder``, their step scripts in ``folder/scripts`` (ignored by the DagBag)."""
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "step.py").write_text("print('hello')\n")
    (folder / ".airflowignore").write_text("scripts/\n")
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


UNPRODUCED_INPUT_DAG = """\
    from airflow.sdk import DAG

    from airflow_ml_provider import PipelineData, PythonScriptStep

    with DAG("orphan_input", schedule=None):
        PythonScriptStep(
            "step.py", name="consumer", inputs=[PipelineData("nobody")], source_directory="scripts"
        )
"""

TWO_PRODUCERS_DAG = """\
    from airflow.sdk import DAG

    from airflow_ml_provider import PipelineData, PythonScriptStep

    shared = PipelineData("shared")
    with DAG("two_producers", schedule=None):
        PythonScriptStep("step.py", name="first", outputs=[shared], source_directory="scripts")
        PythonScriptStep("step.py", name="second", outputs=[shared], source_directory="scripts")
"""

GOOD_DAG = """\
    from airflow.sdk import DAG

    from airflow_ml_provider import PipelineData, PythonScriptStep

    data = PipelineData("data")
    with DAG("good_pipeline", schedule=None):
        PythonScriptStep("step.py", name="make", outputs=[data], source_directory="scripts")
        PythonScriptStep("step.py", name="use", inputs=[data], source_directory="scripts")
"""


# 1. an input that no step produces ------------------------------------------------------------


def test_input_no_step_produces_is_a_problem_of_the_pipeline(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        PythonScriptStep(
            "step.py", name="consumer", inputs=[PipelineData("nobody")], source_directory=scripts
        )

    problems = pipeline_of(dag).problems()

    assert len(problems) == 1
    assert_located(problems[0], "x", "consumer", "inputs")
    assert 'PipelineData "nobody" is an input, but no step in this pipeline produces it.' in str(problems[0])
    assert "Add it to outputs= of the step that writes it" in str(problems[0])


def test_input_no_step_produces_is_refused_by_the_dag_policy(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        PythonScriptStep(
            "step.py", name="consumer", inputs=[PipelineData("nobody")], source_directory=scripts
        )

    with pytest.raises(AirflowClusterPolicyViolation) as info:
        dag_policy(dag)

    assert 'DAG "x", step "consumer", argument "inputs": PipelineData "nobody"' in str(info.value)
    assert "Add it to outputs=" in str(info.value)


def test_dag_policy_accepts_a_complete_pipeline(scripts: str) -> None:
    data = PipelineData("data")
    with DAG("x", schedule=None) as dag:
        PythonScriptStep("step.py", name="consumer", inputs=[data], source_directory=scripts)
        PythonScriptStep("step.py", name="producer", outputs=[data], source_directory=scripts)

    assert pipeline_of(dag).problems() == []
    assert dag_policy(dag) is None


def test_input_no_step_produces_is_an_import_error_of_the_dag_file(tmp_path: Path) -> None:
    folder = write_dag_folder(tmp_path / "dags", {"orphan.py": UNPRODUCED_INPUT_DAG})

    bag = DagBag(dag_folder=str(folder), safe_mode=False)

    assert "orphan_input" not in bag.dag_ids
    error = bag.import_errors[str(folder / "orphan.py")]
    assert 'DAG "orphan_input", step "consumer", argument "inputs": PipelineData "nobody"' in error
    assert "Add it to outputs=" in error


# 2. an output produced by two steps ------------------------------------------------------------


def test_output_produced_by_two_steps(scripts: str) -> None:
    shared = PipelineData("shared")
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="first", outputs=[shared], source_directory=scripts)
        PythonScriptStep("step.py", name="second", outputs=[shared], source_directory=scripts)

    assert_located(info.value, "x", "second", "outputs")
    assert 'PipelineData "shared" is already produced by step "first"' in str(info.value)
    assert "Give each step's output its own PipelineData." in str(info.value)


def test_two_steps_with_one_name(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="same", source_directory=scripts)
        PythonScriptStep("step.py", name="same", source_directory=scripts)

    assert_located(info.value, "x", "same", "name")
    assert "Give each step its own name." in str(info.value)


# 3. a cycle through data -----------------------------------------------------------------------


def test_cycle_through_data(scripts: str) -> None:
    x, y = PipelineData("x_data"), PipelineData("y_data")
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="step_a", inputs=[x], outputs=[y], source_directory=scripts)
        PythonScriptStep("step.py", name="step_b", inputs=[y], outputs=[x], source_directory=scripts)

    assert_located(info.value, "x", "step_b", "inputs")
    assert "its data makes a cycle" in str(info.value)
    assert "Break the cycle by writing new PipelineData" in str(info.value)


# 4. the script and its folder ------------------------------------------------------------------


def test_script_missing_from_source_directory(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("missing.py", source_directory=scripts)

    assert_located(info.value, "x", "missing", "script_name")
    assert "script_name 'missing.py' is not a file in source_directory" in str(info.value)
    assert "Put the script in source_directory" in str(info.value)


def test_script_outside_source_directory(tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("print('hello')\n")
    (tmp_path / "src").mkdir()
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("../outside.py", name="escape", source_directory=str(tmp_path / "src"))

    assert_located(info.value, "x", "escape", "script_name")
    assert "is not a file in source_directory" in str(info.value)


def test_source_directory_missing(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="s", source_directory=str(missing))

    assert_located(info.value, "x", "s", "source_directory")
    assert f"is not a folder (looked for {missing})" in str(info.value)
    assert "Give a folder relative to the DAG file" in str(info.value)


def test_script_name_none_with_step_name(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep(None, name="s", source_directory=scripts)

    assert_located(info.value, "x", "s", "script_name")
    assert "no script_name was given." in str(info.value)
    assert "Name the script to run" in str(info.value)


def test_script_name_none_without_step_name_blames_script_name(scripts: str) -> None:
    """The name defaults to the script's stem; with no script the error must be the script."""
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep(script_name=None, source_directory=scripts)

    assert info.value.dag_id == "x"
    assert info.value.argument == "script_name"
    assert "no script_name was given." in str(info.value)


# 5. unsafe step and output names ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [name for name in UNSAFE_NAMES if name])
def test_unsafe_step_name(scripts: str, bad: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name=bad, source_directory=scripts)

    assert_located(info.value, "x", bad, "name")
    assert f"step name {bad!r} is not a safe name" in str(info.value)
    assert "Use 1-100 letters, digits, '_' or '-'" in str(info.value)


def test_empty_step_name(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="", source_directory=scripts)

    assert (info.value.dag_id, info.value.argument) == ("x", "name")
    assert 'DAG "x", argument "name": step name \'\' is not a safe name' in str(info.value)
    assert "Use 1-100 letters, digits, '_' or '-'" in str(info.value)


@pytest.mark.parametrize("bad", UNSAFE_NAMES)
def test_unsafe_output_name_is_kept_as_a_problem_for_the_step_that_uses_it(bad: str) -> None:
    # Raised where the data is used, so the error can name the DAG and the step too.
    problem = PipelineData(bad).problem

    assert problem is not None
    assert problem.argument == "name"
    assert f"PipelineData name {bad!r} is not a safe name" in str(problem)
    assert "Use 1-100 letters, digits, '_' or '-'" in str(problem)


@pytest.mark.parametrize("bad", UNSAFE_NAMES)
def test_unsafe_output_name_of_a_step_names_dag_and_step(scripts: str, bad: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="producer", outputs=[PipelineData(bad)], source_directory=scripts)

    assert_located(info.value, "x", "producer", "outputs[0].name")
    assert f"{bad!r} is not a safe name" in str(info.value)


# 6. arguments that cannot be rendered ----------------------------------------------------------


@pytest.mark.parametrize(("value", "type_name"), [({"k": 1}, "dict"), (object(), "object")])
def test_argument_that_cannot_be_rendered(scripts: str, value: object, type_name: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="s", arguments=["--a", 1, value], source_directory=scripts)

    assert_located(info.value, "x", "s", "arguments[2]")
    assert f"a value of type {type_name} (" in str(info.value)
    assert "cannot be rendered as a command-line argument" in str(info.value)
    assert "convert other values to str yourself" in str(info.value)


def test_param_that_cannot_be_rendered(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="s", params={"k": [1, 2]}, source_directory=scripts)

    assert_located(info.value, "x", "s", "params['k']")
    assert "a value of type list" in str(info.value)


# 7. PipelineParameter against the DAG's Params -------------------------------------------------


def test_pipeline_parameter_clashes_with_dag_param_type(scripts: str) -> None:
    alpha = PipelineParameter("alpha", default_value=0.1)
    with (
        pytest.raises(PipelineDefinitionError) as info,
        DAG("x", schedule=None, params={"alpha": Param("x", type="string")}),
    ):
        PythonScriptStep("step.py", name="s", arguments=["--alpha", alpha], source_directory=scripts)

    assert_located(info.value, "x", "s", "alpha")
    assert 'has a default of type number (0.1), but the DAG declares Param "alpha" of type string' in str(
        info.value
    )
    assert "Make the two agree" in str(info.value)


def test_integer_default_fits_a_number_param(scripts: str) -> None:
    alpha = PipelineParameter("alpha", default_value=1)
    with DAG("x", schedule=None, params={"alpha": Param(0.5, type="number")}) as dag:
        step = PythonScriptStep("step.py", name="s", arguments=["--alpha", alpha], source_directory=scripts)

    assert step.parameters == {"alpha": alpha}
    assert dag.params["alpha"] == 0.5


def test_pipeline_parameter_without_default_nor_dag_param(scripts: str) -> None:
    alpha = PipelineParameter("alpha")
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="s", arguments=["--alpha", alpha], source_directory=scripts)

    assert_located(info.value, "x", "s", "alpha")
    assert 'PipelineParameter "alpha" has no default_value and the DAG has no Param' in str(info.value)
    assert 'params={"alpha": Param(...)}' in str(info.value)


def test_pipeline_parameter_without_default_uses_the_dag_param(scripts: str) -> None:
    with DAG("x", schedule=None, params={"alpha": Param(0.5, type="number")}) as dag:
        PythonScriptStep(
            "step.py", name="s", arguments=["--alpha", PipelineParameter("alpha")], source_directory=scripts
        )

    assert dag.params["alpha"] == 0.5


def test_pipeline_parameter_declares_a_dag_param(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        PythonScriptStep(
            "step.py",
            name="s",
            arguments=["--alpha", PipelineParameter("alpha", default_value=0.1)],
            source_directory=scripts,
        )

    assert dag.params["alpha"] == 0.1
    assert dag.params.get_param("alpha").schema["type"] == "number"


# 8. data in arguments, data both ways, datastore paths -----------------------------------------


def test_pipeline_data_in_arguments_but_not_declared(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep(
            "step.py", name="s", arguments=["--out", PipelineData("result")], source_directory=scripts
        )

    assert_located(info.value, "x", "s", "arguments[1]")
    assert 'PipelineData "result" is in the arguments but in neither inputs= nor outputs=' in str(info.value)
    assert "Add it to outputs= if this step writes it" in str(info.value)


def test_same_data_as_input_and_output(scripts: str) -> None:
    data = PipelineData("data")
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep("step.py", name="s", inputs=[data], outputs=[data], source_directory=scripts)

    assert_located(info.value, "x", "s", "outputs")
    assert 'data "data" is both an input and an output of the step.' in str(info.value)
    assert "Write the result to a new PipelineData." in str(info.value)


@pytest.mark.parametrize("path", ["../x", "raw/../../x", "/abs/x"])
def test_data_reference_path_leaving_the_datastore_is_kept_as_a_problem(path: str) -> None:
    problem = DataReference(path_on_datastore=path, data_reference_name="raw").problem

    assert problem is not None
    assert problem.argument == "path_on_datastore"
    assert f"path_on_datastore {path!r} leaves the datastore." in str(problem)
    assert "without '..'" in str(problem)


@pytest.mark.parametrize("path", ["../x", "/abs/x"])
def test_data_reference_path_of_a_step_names_dag_and_step(scripts: str, path: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info, DAG("x", schedule=None):
        PythonScriptStep(
            "step.py",
            name="reader",
            inputs=[DataReference(path_on_datastore=path, data_reference_name="raw")],
            source_directory=scripts,
        )

    assert_located(info.value, "x", "reader", "inputs[0].path_on_datastore")
    assert f"path_on_datastore {path!r} leaves the datastore." in str(info.value)


# 9. airflow-ml validate --------------------------------------------------------------------------


def run_validate(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow_home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    return subprocess.run(
        [str(AIRFLOW_ML), "validate", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_validate_reports_a_broken_dag_file(tmp_path: Path) -> None:
    folder = write_dag_folder(tmp_path / "dags", {"broken.py": TWO_PRODUCERS_DAG})

    result = run_validate(folder, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"error {folder / 'broken.py'}: " in result.stdout
    assert 'DAG "two_producers", step "second", argument "outputs": PipelineData "shared"' in result.stdout
    assert "ok two_producers" not in result.stdout


def test_cli_validate_accepts_a_good_dag_file(tmp_path: Path) -> None:
    folder = write_dag_folder(tmp_path / "dags", {"good.py": GOOD_DAG})

    result = run_validate(folder, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok good_pipeline" in result.stdout
    assert "error" not in result.stdout


DATA_ON_NAMED_DATASTORES_DAG = """\
    from airflow.sdk import DAG

    from airflow_ml_provider import DataReference, DataTransferStep, PipelineData, PythonScriptStep

    raw = DataReference(datastore="nowhere", path_on_datastore="raw.csv", name="raw")
    staged = PipelineData("staged", datastore="lake_{suffix}")
    model = PipelineData("model", datastore="lost_{suffix}")
    with DAG("named_datastores", schedule=None):
        DataTransferStep(name="fetch", source=raw, destination=staged)
        PythonScriptStep("step.py", name="train", arguments=["--data", staged, "--model", model],
                         inputs=[staged], outputs=[model], source_directory="scripts",
                         compute_target="gpu_{suffix}")
"""


def test_cli_validate_reads_the_dags_folder_as_the_dag_processor_does(tmp_path: Path) -> None:
    """No folder given: [core] dags_folder; a plain step script (no .airflowignore) is not executed;
    a datastore that is not defined is reported with its DAG, step and argument."""
    folder = tmp_path / "dags"
    (folder / "scripts").mkdir(parents=True)
    marker = tmp_path / "executed"
    (folder / "scripts" / "step.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (folder / "named.py").write_text(textwrap.dedent(DATA_ON_NAMED_DATASTORES_DAG).format(suffix="none"))
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}

    result = subprocess.run(
        [str(AIRFLOW_ML), "validate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert not marker.exists(), "a step script was executed as a DAG file"
    assert f"checking {folder}" in result.stdout
    for argument, data, datastore in [
        ("source", 'DataReference "raw"', "nowhere"),
        ("outputs", 'PipelineData "model"', "lost_none"),
        ("destination", 'PipelineData "staged"', "lake_none"),
    ]:
        step = "fetch" if argument in ("source", "destination") else "train"
        assert (
            f'error named_datastores: DAG "named_datastores", step "{step}", argument "{argument}": '
            f'{data}: datastore "{datastore}" is not defined'
        ) in result.stdout, result.stdout
    assert "ok named_datastores" not in result.stdout


def test_cli_validate_finds_connections_in_the_metadata_database(airflow_db: Path, tmp_path: Path) -> None:
    """Connections created in the UI live in the metadata database: tasks find them, so does validate."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    suffix = tmp_path.name[-8:].lower().replace("-", "_")
    folder = write_dag_folder(
        tmp_path / "dags", {"named.py": DATA_ON_NAMED_DATASTORES_DAG.format(suffix=suffix)}
    )
    created = [
        Connection(conn_id=f"lake_{suffix}", conn_type="mldatastore", host=(tmp_path / "lake").as_uri()),
        Connection(conn_id=f"gpu_{suffix}", conn_type="mlcomputelocal", extra='{"queue": "gpu"}'),
    ]
    with create_session() as session:
        session.add_all(created)
    try:
        result = subprocess.run(
            [str(AIRFLOW_ML), "validate", str(folder)],
            env=os.environ.copy(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        with create_session() as session:
            for connection in created:
                session.query(Connection).filter(Connection.conn_id == connection.conn_id).delete()

    assert result.returncode == 1, result.stdout + result.stderr
    assert f'datastore "lake_{suffix}"' not in result.stdout
    assert f'compute target "gpu_{suffix}"' not in result.stdout
    assert f'datastore "lost_{suffix}" is not defined' in result.stdout
