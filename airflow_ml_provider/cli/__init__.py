"""``airflow-ml``: validate pipelines, put data on datastores, run a pipeline and show its steps.

Each command (group) is a module of this package; importing it registers its commands.
"""

from __future__ import annotations

import gc
import os

from airflow_ml_provider.cli import (
    cache,
    datastore,
    endpoints,
    modules,
    remote,
    run,
    server,
    status,
    validate,
)
from airflow_ml_provider.cli.app import app

__all__ = [
    "app",
    "cache",
    "datastore",
    "endpoints",
    "main",
    "modules",
    "remote",
    "run",
    "server",
    "status",
    "validate",
]


def main() -> None:
    """Run a command in this process (``airflow-ml`` itself first offers it to a run server)."""
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # Airflow and MLflow leave ~800,000 long-lived objects: with Python's default thresholds the
    # collector rescans them about 2,000 times in one `airflow-ml run` (a fifth of its CPU), and
    # once more, for seconds, at interpreter exit.
    gc.set_threshold(50_000, 20, 20)
    try:
        app()
    finally:
        gc.freeze()  # nothing needs collecting at exit: skip the final full collection
