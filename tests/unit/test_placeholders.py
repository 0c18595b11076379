"""Azure ML v1 placeholders and ``AZUREML_DATAREFERENCE_<name>`` variables, through the real runtime."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from airflow_ml_provider.runtime import InputSpec, OutputSpec, StepSpec, run_step
from airflow_ml_provider.runtime.placeholders import INPUT_DATASETS_VARIABLE, expand_data, expand_parameters

SCRIPT = """
import json, os, sys
out = os.environ["AZUREML_DATAREFERENCE_result"]
with open(os.path.join(out, "seen.json"), "w") as f:
    json.dump({"argv": sys.argv[1:], "raw": os.environ["AZUREML_DATAREFERENCE_raw"],
               "alias": os.environ["AZUREML_DATAREFERENCE_table"],
               "read": open(sys.argv[1].split("=", 1)[1]).read()}, f)
"""


def test_expansion_takes_the_longest_known_name() -> None:
    paths = {"raw": "/r", "raw_data": "/rd"}

    assert expand_data("--in=$AML_DATAREFERENCE_raw_data/x", paths) == "--in=/rd/x"
    assert expand_data("$AZUREML_DATAREFERENCE_raw_2", paths) == "/r_2"
    assert expand_data("$AML_PIPELINEDATA_unknown", paths) == "$AML_PIPELINEDATA_unknown"
    assert expand_parameters("--a=$AML_PARAMETER_alpha", {"alpha": "0.5"}) == "--a=0.5"


def test_script_gets_paths_in_string_arguments_and_in_its_environment(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "step.py").write_text(SCRIPT)
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.csv").write_text("x\n1\n")
    spec = StepSpec(
        step="s",
        script="step.py",
        source_directory=str(tmp_path / "code"),
        arguments=[
            {"kind": "literal", "value": "--input=$AZUREML_DATAREFERENCE_raw/a.csv"},
            {"kind": "literal", "value": "--output"},
            {"kind": "data", "value": "result"},
        ],
        inputs=[InputSpec("raw", (tmp_path / "raw").as_uri(), "download")],
        outputs=[OutputSpec("result", (tmp_path / "published" / "result").as_uri())],
        work_directory=str(tmp_path / "work"),
        python=sys.executable,
        environment={INPUT_DATASETS_VARIABLE: json.dumps({"table": {"data": "raw", "format": None}})},
    )
    warnings: list[str] = []

    result = run_step(spec, info=lambda line: None, warning=warnings.append)

    seen = json.loads((tmp_path / "published" / "result" / "seen.json").read_text())
    staged_raw = seen["raw"]
    assert seen["argv"][0] == f"--input={staged_raw}/a.csv"
    assert seen["read"] == "x\n1\n"
    assert seen["alias"] == staged_raw
    assert result.outputs["result"].files == 1 and warnings == []


def test_an_output_the_script_left_empty_is_reported(tmp_path: Path) -> None:
    (tmp_path / "step.py").write_text("print('forgot the output')\n")
    spec = StepSpec(
        step="s",
        script="step.py",
        source_directory=str(tmp_path),
        arguments=[],
        inputs=[],
        outputs=[OutputSpec("model", (tmp_path / "published" / "model").as_uri())],
        work_directory=str(tmp_path / "work"),
        python=sys.executable,
    )
    warnings: list[str] = []

    run_step(spec, info=lambda line: None, warning=warnings.append)

    assert warnings == [
        'output "model": the script wrote nothing into it. Scripts find an output\'s folder in their '
        "arguments, or in $AZUREML_DATAREFERENCE_model."
    ]
