"""Test setup: a private AIRFLOW_HOME with a SQLite metadata DB and a copy of dags/.

The environment is set at import time, before anything imports Airflow, because
Airflow reads its configuration once, on first import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="aml-tests-"))
DAGS_FOLDER = _HOME / "dags"

os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Many tests define steps whose code is in a pytest temporary folder, outside the DAG
        # folder: they are allowed as a deployment would allow a shared code folder. The
        # reliability suite removes this to check that steps are confined to the DAG folder.
        "AIRFLOW__ML_PIPELINES__ALLOWED_SOURCE_ROOTS": tempfile.gettempdir(),
        # `airflow-ml` commands run in their own process, as tests expect; test_run_server.py
        # switches the warm run server on for its own commands.
        "AIRFLOW__ML_PIPELINES__RUN_SERVER_IDLE_SECONDS": "0",
    }
)
shutil.copytree(REPO / "dags", DAGS_FOLDER)
# The wine example trains on the compute target "gpu": here, a local one.
os.environ["AIRFLOW_CONN_GPU"] = json.dumps({"conn_type": "mlcomputelocal"})
# The wine example reads its raw data from a second datastore, "samples".
os.environ["AIRFLOW_CONN_SAMPLES"] = json.dumps(
    {"conn_type": "mldatastore", "extra": {"base_uri": (DAGS_FOLDER / "wine" / "data").as_uri()}}
)


def _airflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB and the sample data on the default datastore."""
    result = _airflow("db", "migrate")
    assert result.returncode == 0, result.stderr[-2000:]
    from airflow_ml_provider.datastore import Datastore

    Datastore().upload(REPO / "dags" / "wine" / "data", "samples/wine", show_progress=False)
    Datastore().upload_files(
        [REPO / "dags" / "data_dependency" / "data" / "20news.txt"], "samples", show_progress=False
    )
    return _HOME


@pytest.fixture
def dags_folder() -> Path:
    return DAGS_FOLDER


@pytest.fixture
def airflow_cli():
    return _airflow


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh database on a real PostgreSQL on loopback (started by scripts/postgres.sh)."""
    started = subprocess.run(
        ["bash", str(REPO / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr[-2000:]
    server_url = started.stdout.strip().splitlines()[-1]
    import uuid

    import sqlalchemy

    database = f"aml_tests_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"create database {database}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + database


_FIGURES: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """Print a figure (a size, a duration) in the summary at the end of the test session."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
