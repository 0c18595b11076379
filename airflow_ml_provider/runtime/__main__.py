"""``python -m airflow_ml_provider.runtime SPEC_FILE RESULT_FILE``: the runtime in a container."""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_ml_provider.runtime.execute import run_step
from airflow_ml_provider.runtime.process import ScriptFailedError
from airflow_ml_provider.runtime.spec import StepSpec
from airflow_ml_provider.runtime.staging import StagingError


def main(argv: list[str]) -> int:
    spec_file, result_file = argv
    spec = StepSpec.from_json(Path(spec_file).read_text())
    try:
        result = run_step(
            spec,
            info=lambda line: print(line, flush=True),
            warning=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (ScriptFailedError, StagingError) as error:
        print(str(error), file=sys.stderr, flush=True)
        return 1
    Path(result_file).write_text(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
