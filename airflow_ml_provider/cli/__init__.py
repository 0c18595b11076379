"""``airflow-ml``: validate pipelines, put data on datastores, run a pipeline and show its steps.

Each command (group) is a module of this package; importing it registers its commands.
"""

from __future__ import annotations

import os

from airflow_ml_provider.cli import cache, datastore, run, validate
from airflow_ml_provider.cli.app import app

__all__ = ["app", "cache", "datastore", "main", "run", "validate"]


def main() -> None:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    app()
