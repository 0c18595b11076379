"""Bad pipeline definitions are refused when the DAG file is parsed, naming DAG, step and argument.

Each case is a real DAG file parsed by Airflow's DagBag (as the DAG processor does). Refused
clearly means: the file is an import error whose message is this provider's, located
(``DAG "...", step "...", argument "..."``), never a raw ``TypeError`` or ``ValueError`` from
deeper down, and the DAG is not loaded (so it cannot run and crash later).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

pytestmark = pytest.mark.reliability

HEADER = """\
from airflow.sdk import DAG, Param
from airflow_ml_provider import (DataReference, DataTransferStep, Environment, EstimatorStep,
                                 PipelineData, PipelineParameter, PythonScriptStep)
raw = DataReference(datastore="default", path_on_datastore="raw/data.csv", name="raw")
made, other = PipelineData("made"), PipelineData("other")
"""


def _in_dag(body: str, params: str = "{}") -> str:
    return f'with DAG("bad", schedule=None, params={params}):\n' + textwrap.indent(
        textwrap.dedent(body), "    "
    )


def step(**arguments: str) -> str:
    """A PythonScriptStep call with the given keyword arguments (as source text)."""
    values = {"name": '"s"', "script_name": '"step.py"', "source_directory": '"steps"', **arguments}
    return "PythonScriptStep(" + ", ".join(f"{key}={value}" for key, value in values.items()) + ")\n"


# (case, DAG file body after the header, the step and argument the error must name)
CASES: list[tuple[str, str, str, str | None]] = [
    # Item 14: wrong shapes
    ("inputs= one DataReference, not a list", _in_dag(step(inputs="raw")), "s", "inputs"),
    ("outputs= one PipelineData, not a list", _in_dag(step(outputs="made")), "s", "outputs"),
    ("inputs= a string", _in_dag(step(inputs='"raw"')), "s", "inputs"),
    ("source_directory=123", _in_dag(step(source_directory="123")), "s", "source_directory"),
    ('arguments="--out result" (one string)', _in_dag(step(arguments='"--out result"')), "s", "arguments"),
    ("arguments= a dict", _in_dag(step(arguments='{"--out": "x"}')), "s", "arguments"),
    ("params= a list", _in_dag(step(params='["a"]')), "s", "params"),
    ("environment= a string", _in_dag(step(environment='"requirements.txt"')), "s", "environment"),
    (
        "hyperparameters= a list",
        _in_dag(
            'EstimatorStep(name="s", entry_script="step.py", source_directory="steps", hyperparameters=[1])'
        ),
        "s",
        "hyperparameters",
    ),
    (
        "a step created outside any with DAG(...)",
        step(name='"lost"') + _in_dag(step()),
        "lost",
        None,
    ),
    # Item 15: what no script could be started with
    ("300,000 arguments", _in_dag(step(arguments='["x"] * 300_000')), "s", "arguments"),
    ("one 200,000-character argument", _in_dag(step(arguments='["x" * 200_000]')), "s", "arguments[0]"),
    (
        "arguments adding up to 300,000 characters",
        _in_dag(step(arguments='["x" * 30_000] * 10')),
        "s",
        "arguments",
    ),
    ("a NUL byte in an argument", _in_dag(step(arguments='["--name", "a\\0b"]')), "s", "arguments[1]"),
    (
        "Environment(variables={'THREADS': 4})",
        _in_dag(step(environment='Environment(variables={"THREADS": 4})')),
        "s",
        "environment.variables['THREADS']",
    ),
    (
        "an environment variable named 'A B'",
        _in_dag(step(environment='Environment(variables={"A B": "1"})')),
        "s",
        "environment.variables['A B']",
    ),
    (
        "a NUL byte in an environment variable",
        _in_dag(step(environment='Environment(variables={"X": "a\\0b"})')),
        "s",
        "environment.variables['X']",
    ),
    ("params={'a=b': 1}", _in_dag(step(params='{"a=b": 1}')), "s", "params['a=b']"),
    ("params={'': 1}", _in_dag(step(params='{"": 1}')), "s", "params['']"),
    # Item 16: code from outside the DAG folder
    (
        "source_directory='/etc'",
        _in_dag(step(source_directory='"/etc"', script_name='"passwd"')),
        "s",
        "source_directory",
    ),
    (
        "source_directory='../outside'",
        _in_dag(step(source_directory='"../outside"')),
        "s",
        "source_directory",
    ),
    # Refused before this suite existed: still refused clearly
    ("step name '../x'", _in_dag(step(name='"../x"')), "../x", "name"),
    ("step name with a space", _in_dag(step(name='"has space"')), "has space", "name"),
    ("two steps with one name", _in_dag(step() + step()), "s", "name"),
    (
        "two producers of one output",
        _in_dag(step(outputs="[made]") + step(name='"t"', outputs="[made]")),
        "t",
        "outputs",
    ),
    (
        "a cycle through data",
        _in_dag(
            step(inputs="[other]", outputs="[made]") + step(name='"t"', inputs="[made]", outputs="[other]")
        ),
        "t",
        "inputs",
    ),
    ("an input no step produces", _in_dag(step(inputs="[other]")), "s", "inputs"),
    ("a missing script", _in_dag(step(script_name='"missing.py"')), "s", "script_name"),
    ("a script outside source_directory", _in_dag(step(script_name='"../bad.py"')), "s", "script_name"),
    ("a missing source_directory", _in_dag(step(source_directory='"nowhere"')), "s", "source_directory"),
    ("no script_name", _in_dag(step(script_name="None")), "s", "script_name"),
    ("compute_target=5", _in_dag(step(compute_target="5")), "s", "compute_target"),
    ('tracking="sometimes"', _in_dag(step(tracking='"sometimes"')), "s", "tracking"),
    ("an argument of type dict", _in_dag(step(arguments='[{"a": 1}]')), "s", "arguments[0]"),
    (
        "PipelineData in arguments, undeclared",
        _in_dag(step(arguments='["--out", made]')),
        "s",
        "arguments[1]",
    ),
    (
        "one data both input and output",
        _in_dag(
            step(inputs="[raw]", outputs="[made]", arguments="[made]")
            + step(name='"t"', inputs="[made]", outputs="[made]")
        ),
        "t",
        "outputs",
    ),
    (
        "a DataReference path leaving its datastore",
        _in_dag(step(inputs='[DataReference(path_on_datastore="../../etc/passwd", name="x")]')),
        "s",
        "inputs[0].path_on_datastore",
    ),
    (
        'mode="copy"',
        _in_dag(step(inputs='[DataReference(path_on_datastore="a", name="a", mode="copy")]')),
        "s",
        "inputs[0].mode",
    ),
    ("an unsafe PipelineData name", _in_dag(step(outputs='[PipelineData("a/b")]')), "s", "outputs[0].name"),
    (
        "a PipelineParameter whose type disagrees with the DAG Param",
        _in_dag(
            step(arguments='[PipelineParameter("alpha", default_value="x")]'),
            params='{"alpha": Param(0.1, type="number")}',
        ),
        "s",
        "alpha",
    ),
    (
        "a PipelineParameter with no default and no Param",
        _in_dag(step(arguments='[PipelineParameter("beta")]')),
        "s",
        "beta",
    ),
    (
        'register_model=""',
        _in_dag(
            'EstimatorStep(name="s", entry_script="step.py", source_directory="steps", register_model="")'
        ),
        "s",
        "register_model",
    ),
    (
        "model_alias without register_model",
        _in_dag('EstimatorStep(name="s", entry_script="step.py", source_directory="steps", model_alias="c")'),
        "s",
        "model_alias",
    ),
    (
        'DataTransferStep source_reference_type="both"',
        _in_dag('DataTransferStep(name="s", source=raw, destination=made, source_reference_type="both")'),
        "s",
        "source_reference_type",
    ),
    (
        "DataTransferStep to itself",
        _in_dag('DataTransferStep(name="s", source=made, destination=made)'),
        "s",
        "destination_data_reference",
    ),
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAG folder of its own, with the step scripts; the code outside it is ../outside."""
    root = tmp_path_factory.mktemp("bad-definitions")
    (root / "dags" / "steps").mkdir(parents=True)
    (root / "dags" / "steps" / "step.py").write_text("print('hello')\n")
    (root / "dags" / "bad.py").write_text("print('not a script of the step')\n")
    (root / "outside").mkdir()
    (root / "outside" / "step.py").write_text("print('outside')\n")
    return root / "dags"


@pytest.mark.parametrize(("case", "body", "step_name", "argument"), CASES, ids=[case[0] for case in CASES])
def test_a_bad_definition_is_refused_clearly_at_parse_time(
    case: str, body: str, step_name: str, argument: str | None, bundle: Path, monkeypatch, ledger
) -> None:
    # Steps are confined to the DAG folder: the test DAG folder is it, nothing else is allowed.
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(bundle))
    monkeypatch.delenv("AIRFLOW__ML_PIPELINES__ALLOWED_SOURCE_ROOTS", raising=False)
    for old in bundle.glob("case_*.py"):
        old.unlink()
    dag_file = bundle / f"case_{abs(hash(case))}.py"
    dag_file.write_text(HEADER + body)
    with ledger.definition(case):
        bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
        assert "bad" not in bag.dag_ids, "the DAG was loaded: it would have run"
        (error,) = bag.import_errors.values()
        # This provider's own message, not a TypeError/ValueError from deeper down.
        ours = error.rsplit("PipelineDefinitionError: ", 1)[-1].rsplit("AirflowClusterPolicyViolation: ", 1)[
            -1
        ]
        assert ours != error, error[-1500:]
        where = f'DAG "bad", step "{step_name}"' + (f', argument "{argument}"' if argument else "")
        assert where in ours, ours
