"""The runtime as a container's command, with no shell in between.

``python -m airflow_ml_provider.runtime SPEC_FILE RESULT_FILE`` (docker: the spec is a file in
the mounted work folder), or ``python -m airflow_ml_provider.runtime --spec-env VARIABLE
[--secrets-env VARIABLE] RESULT_FILE`` (kubernetes: the spec in the pod's environment, its
credentials in a variable filled from a Kubernetes Secret).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from airflow_ml_provider.runtime.commandline import CommandLineError
from airflow_ml_provider.runtime.execute import run_step
from airflow_ml_provider.runtime.process import ScriptFailedError
from airflow_ml_provider.runtime.secrets import with_secrets
from airflow_ml_provider.runtime.spec import SpecVersionError, StepSpec
from airflow_ml_provider.runtime.staging import StagingError


def _spec(arguments: argparse.Namespace) -> StepSpec:
    if arguments.spec_env:
        spec = StepSpec.from_json(os.environ[arguments.spec_env])
    else:
        spec = StepSpec.from_json(Path(arguments.spec_file).read_text())
    if arguments.secrets_env:
        spec = with_secrets(spec, json.loads(os.environ.pop(arguments.secrets_env, "[]")))
    return spec


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_ml_provider.runtime")
    parser.add_argument("--spec-env", help="read the spec from this environment variable")
    parser.add_argument("--secrets-env", help="read the spec's credentials from this environment variable")
    parser.add_argument("files", nargs="+", metavar="[SPEC_FILE] RESULT_FILE")
    arguments = parser.parse_args(argv)
    expected = 1 if arguments.spec_env else 2
    if len(arguments.files) != expected:
        parser.error("give SPEC_FILE RESULT_FILE, or --spec-env VARIABLE RESULT_FILE")
    arguments.spec_file = None if arguments.spec_env else arguments.files[0]
    result_file = Path(arguments.files[-1])
    try:
        spec = _spec(arguments)
    except SpecVersionError as error:
        print(str(error), file=sys.stderr, flush=True)
        return 1
    try:
        result = run_step(
            spec,
            info=lambda line: print(line, flush=True),
            warning=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (ScriptFailedError, StagingError, CommandLineError) as error:
        print(str(error), file=sys.stderr, flush=True)
        return 1
    result_file.parent.mkdir(parents=True, exist_ok=True)
    result_file.write_text(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
