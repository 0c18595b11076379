"""One step attempt: stage inputs, run the script, publish outputs. No Airflow here."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from airflow_ml_provider.runtime import bootstrap
from airflow_ml_provider.runtime.commandline import check_command_line, shortened
from airflow_ml_provider.runtime.placeholders import data_variables, expand_data
from airflow_ml_provider.runtime.process import Stopper, run_script
from airflow_ml_provider.runtime.spec import OutputRecord, StepResult, StepSpec
from airflow_ml_provider.runtime.staging import OutputStaging, stage_input

Log = Callable[[str], None]


def run_step(spec: StepSpec, *, info: Log, warning: Log, stopper: Stopper | None = None) -> StepResult:
    """Run one attempt of a step; outputs are published only if the script succeeded."""
    work = Path(spec.work_directory)
    work.mkdir(parents=True, exist_ok=True)
    read_only: list[str] = []
    staged = {item.name: stage_input(item, work / "inputs", info, read_only) for item in spec.inputs}
    outputs = {item.name: OutputStaging(item, work) for item in spec.outputs}
    try:
        paths = {**staged, **{name: str(staging.path) for name, staging in outputs.items()}}
        arguments = [_render(token, paths, spec.step) for token in spec.arguments]
        environment = {**_script_environment(spec), **data_variables(paths, spec.environment)}
        check_command_line(spec.step, arguments, spec.environment)
        record_file = work / "imports.json"
        script = str(Path(spec.source_directory) / spec.script)
        info(f'step "{spec.step}": running {spec.script} {shortened(" ".join(arguments))}')
        run_script(
            [spec.python, bootstrap.__file__, str(record_file), script, *arguments],
            step=spec.step,
            script=spec.script,
            cwd=spec.source_directory,
            environment={**environment, bootstrap.VARIABLE: json.dumps(read_only)},
            log_stdout=info,
            log_stderr=warning,
            stopper=stopper,
        )
        published: dict[str, OutputRecord] = {}
        for name, staging in outputs.items():
            published[name] = staging.publish(warning)
            info(f'output "{name}": published {published[name].uri} ({published[name].digest})')
            if published[name].files == 0:
                warning(
                    f'output "{name}": the script wrote nothing into it. Scripts find an output\'s '
                    f"folder in their arguments, or in $AZUREML_DATAREFERENCE_{name}."
                )
        return StepResult(published, _imported_modules(record_file))
    finally:
        for staging in outputs.values():
            staging.discard()
        shutil.rmtree(work / "inputs", ignore_errors=True)


def _render(token: dict[str, str], paths: dict[str, str], step: str) -> str:
    if token["kind"] == "data":
        if token["value"] not in paths:
            raise ValueError(f'step "{step}": argument refers to unknown data "{token["value"]}"')
        return paths[token["value"]]
    return expand_data(token["value"], paths)


def _script_environment(spec: StepSpec) -> dict[str, str]:
    python_path = [*spec.python_path, os.environ.get("PYTHONPATH", "")]
    return {
        **spec.environment,
        "PYTHONPATH": os.pathsep.join(path for path in python_path if path),
        "PYTHONUNBUFFERED": "1",
    }


def _imported_modules(record_file: Path) -> list[str] | None:
    """The modules the script imported, or None when it exited without saying (fail closed)."""
    try:
        return list(json.loads(record_file.read_text())["imported_modules"])
    except (OSError, ValueError, KeyError):
        return None
