"""``SqlDataReference`` as a DataTransferStep source, on a real PostgreSQL (scripts/postgres.sh).

The rows are read through the connection's common-sql hook (the PostgreSQL provider's),
copied as CSV, read by a script step; the copy is reused while the rows are unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path

pytestmark = pytest.mark.integration

DAG_FILE = """
from airflow_ml_provider.v1 import (DataTransferStep, Pipeline, PipelineData, PythonScriptStep,
                                    SqlDataReference)

sales = SqlDataReference(datastore="sales_db", data_reference_name="sales",
                         sql_query="SELECT id, region, amount FROM sales ORDER BY id")
copied, report = PipelineData("copied"), PipelineData("report")
copy = DataTransferStep(name="copy_sales", source_data_reference=sales, destination_data_reference=copied)
total = PythonScriptStep(name="total", script_name="total.py", source_directory="sql_source_steps",
                         arguments=["--sales", copied, "--report", report], inputs=[copied], outputs=[report])
Pipeline(steps=[total], dag_id="sql_source")
"""

TOTAL = """
import argparse, csv, os
parser = argparse.ArgumentParser()
parser.add_argument("--sales"); parser.add_argument("--report")
args = parser.parse_args()
with open(os.path.join(args.sales, "sales.csv")) as f:
    rows = list(csv.DictReader(f))
with open(os.path.join(args.report, "total.txt"), "w") as f:
    f.write(f"{len(rows)} {sum(float(row['amount']) for row in rows):.2f}")
"""


@pytest.fixture
def sales_db(postgres_url: str) -> sqlalchemy.Engine:
    """A table on a real PostgreSQL, and the Airflow connection (type postgres) to its database."""
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("drop table if exists sales"))
        connection.execute(
            sqlalchemy.text("create table sales (id int primary key, region text, amount numeric)")
        )
        connection.execute(
            sqlalchemy.text(
                "insert into sales values (1, 'north', 10.5), (2, 'south', 20), (3, 'north', 1.25)"
            )
        )
    url = urlparse(postgres_url)
    os.environ["AIRFLOW_CONN_SALES_DB"] = json.dumps(
        {
            "conn_type": "postgres",
            "host": url.hostname,
            "port": url.port,
            "login": url.username,
            "password": url.password,
            "schema": url.path.lstrip("/"),
        }
    )
    yield engine
    del os.environ["AIRFLOW_CONN_SALES_DB"]
    engine.dispose()


def _total(steps: list) -> str:
    (summary,) = [s for s in steps if s.name == "total"]
    path = local_path(summary.outputs["report"]["uri"])
    assert path is not None
    return (path / "total.txt").read_text()


def test_rows_are_copied_as_csv_and_reused_until_they_change(
    airflow_db: Path, dags_folder: Path, sales_db: sqlalchemy.Engine
) -> None:
    (dags_folder / "sql_source_steps").mkdir()
    (dags_folder / "sql_source_steps" / "total.py").write_text(TOTAL)
    (dags_folder / "sql_source.py").write_text(DAG_FILE)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("sql_source_steps/\n")
    dag_file = str(dags_folder / "sql_source.py")

    first, steps = run_pipeline("sql_source", dag_file=dag_file)
    _second, again = run_pipeline("sql_source", dag_file=dag_file)
    with sales_db.begin() as connection:
        connection.execute(sqlalchemy.text("insert into sales values (4, 'south', 100)"))
    third, changed = run_pipeline("sql_source", dag_file=dag_file)

    assert str(first.state) == "success", [(s.name, s.status) for s in steps]
    assert [(s.name, s.status) for s in steps] == [("copy_sales", "ran"), ("total", "ran")]
    copied = local_path(steps[0].outputs["copied"]["uri"])
    assert copied is not None
    assert (copied / "sales.csv").read_text() == "id,region,amount\n1,north,10.5\n2,south,20\n3,north,1.25\n"
    assert _total(steps) == "3 31.75"
    assert [(s.name, s.status) for s in again] == [("copy_sales", "reused"), ("total", "reused")]
    assert str(third.state) == "success"
    assert [(s.name, s.status) for s in changed] == [("copy_sales", "ran"), ("total", "ran")]
    assert _total(changed) == "4 131.75"
