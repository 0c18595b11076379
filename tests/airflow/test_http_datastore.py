"""A datastore on a plain HTTP server (read-only data published on a web server)."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path

DAG_FILE = """
from airflow.sdk import DAG
from airflow_ml_provider import DataReference, PipelineData, PythonScriptStep

table = DataReference(datastore="web_samples", path_on_datastore="tables/table.csv", name="table")
counted = PipelineData("counted")
with DAG("http_datastore", schedule=None):
    PythonScriptStep(name="count", script_name="count.py", source_directory="http_datastore_steps",
                     arguments=["--table", table, "--out", counted], outputs=[counted])
"""

COUNT = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--table"); parser.add_argument("--out")
args = parser.parse_args()
rows = pathlib.Path(args.table).read_text().splitlines()
pathlib.Path(args.out, "rows.txt").write_text(str(len(rows) - 1))
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_datastore(tmp_path: Path) -> Iterator[Path]:
    """A real HTTP server on loopback serving a folder, and the datastore connection over it."""
    root = tmp_path / "site"
    (root / "tables").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    os.environ["AIRFLOW_CONN_WEB_SAMPLES"] = json.dumps(
        {"conn_type": "mldatastore", "extra": {"base_uri": f"http://127.0.0.1:{server.server_port}"}}
    )
    try:
        yield root
    finally:
        del os.environ["AIRFLOW_CONN_WEB_SAMPLES"]
        server.shutdown()
        server.server_close()


def test_step_reads_from_an_http_datastore_and_is_reused_while_it_is_unchanged(
    airflow_db, dags_folder: Path, web_datastore: Path
):
    (web_datastore / "tables" / "table.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    steps = dags_folder / "http_datastore_steps"
    steps.mkdir()
    (steps / "count.py").write_text(COUNT)
    (dags_folder / "http_datastore.py").write_text(DAG_FILE)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("http_datastore_steps/\n")

    first_run, first = run_pipeline("http_datastore", dag_file=str(dags_folder / "http_datastore.py"))
    second_run, second = run_pipeline("http_datastore", dag_file=str(dags_folder / "http_datastore.py"))

    assert str(first_run.state) == "success"
    assert [(s.name, s.status) for s in first] == [("count", "ran")]
    counted = local_path(first[0].outputs["counted"]["uri"])
    assert counted is not None and (counted / "rows.txt").read_text() == "3"
    assert str(second_run.state) == "success"
    assert [(s.name, s.status) for s in second] == [("count", "reused")]
