"""The ``airflow-ml`` console script: ``run`` and ``status`` go to the warm run server first.

It imports the commands (and Airflow) only when it runs one itself.
"""

from __future__ import annotations

import os
import sys

from airflow_ml_provider.runserver.client import run_through_server


def main() -> None:
    """``airflow-ml``: a served command through the run server, anything else in this process."""
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    try:
        code = run_through_server(sys.argv[1:])
    except KeyboardInterrupt:  # while a server was starting: it goes on, for the next command
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    from airflow_ml_provider.cli import main as run_here

    run_here()
