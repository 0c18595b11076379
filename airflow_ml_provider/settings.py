"""Where the provider keeps its files when nothing is configured: under AIRFLOW_HOME."""

from __future__ import annotations

import os
from pathlib import Path


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def provider_home() -> Path:
    """``$AIRFLOW_HOME/ml``: the default datastore, step work folders, the step cache."""
    return airflow_home() / "ml"
