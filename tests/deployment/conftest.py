"""One deployment of real Airflow processes for the tests of this folder: api-server,
scheduler, dag-processor and triggerer (LocalExecutor on SQLite) on the pipelines of
``dags/`` here, with the OpenLineage file transport. Started once, stopped after the last
test of the folder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_processes import AirflowProcesses, airflow_processes

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowProcesses]:
    home = tmp_path_factory.mktemp("deployment")
    dags = home / "dags"
    shutil.copytree(HERE / "dags", dags)
    landing = home / "landing"
    landing.mkdir()
    env = {
        "AIRFLOW__ML_PIPELINES__REUSE_POKE_SECONDS": "1",
        # The datastore that dags/on_new_data.py watches and dags/asset_producer.py reads.
        "AIRFLOW_CONN_LANDING": json.dumps(
            {"conn_type": "ml_datastore", "extra": {"base_uri": landing.as_uri()}}
        ),
        # OpenLineage events of every task, one JSON document a line.
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home / "openlineage.jsonl"), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "tests",
    }
    with airflow_processes(home, dags, env=env) as airflow:
        yield airflow
