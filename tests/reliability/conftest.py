"""The reliability suite: bad definitions, injected faults and planted secrets, counted.

Every case is recorded in a ledger as it runs; the figures are printed at the end of the
pytest run (``pytest -m reliability``, or any run that includes this folder):

    bad definitions: tried / refused clearly (DAG, step and argument named, no traceback)
    faults:          injected / survived with nothing lost and nothing stale
    secrets:         planted / found anywhere (logs, XCom, MLflow, cache DBs, pod requests, temp folders)
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Ledger:
    definitions: dict[str, bool] = field(default_factory=dict)
    faults: dict[str, bool] = field(default_factory=dict)
    planted: set[str] = field(default_factory=set)
    found: dict[str, set[str]] = field(default_factory=dict)
    places_searched: set[str] = field(default_factory=set)
    measured: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def definition(self, name: str) -> Iterator[None]:
        """A bad definition: counted as refused clearly if the block's checks pass."""
        self.definitions[name] = False
        yield
        self.definitions[name] = True

    @contextlib.contextmanager
    def fault(self, name: str) -> Iterator[None]:
        """An injected fault: counted as survived if the block's checks (nothing lost or stale) pass."""
        self.faults[name] = False
        yield
        self.faults[name] = True

    def measure(self, name: str, figure: str) -> None:
        """A figure worth printing with the others (a time, a size)."""
        self.measured[name] = figure

    def plant(self, secret: str) -> str:
        self.planted.add(secret)
        return secret

    def search(self, place: str, text: str | bytes) -> list[str]:
        """The planted secrets that appear in ``text`` (recorded as found in ``place``)."""
        self.places_searched.add(place.split(":", 1)[0])
        data = text if isinstance(text, bytes) else text.encode(errors="replace")
        hits = [secret for secret in sorted(self.planted) if secret.encode() in data]
        for secret in hits:
            self.found.setdefault(secret, set()).add(place)
        return hits

    def search_tree(self, place: str, root: Path) -> list[str]:
        """Planted secrets in any file under ``root`` (names and contents)."""
        hits: set[str] = set()
        if not root.exists():
            return []
        paths = [root] if root.is_file() else [p for p in root.rglob("*")]
        for path in paths:
            hits.update(self.search(f"{place}: {path}", str(path)))
            if path.is_file() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    hits.update(self.search(f"{place}: {path}", path.read_bytes()))
        return sorted(hits)

    def lines(self) -> list[str]:
        refused = sum(self.definitions.values())
        survived = sum(self.faults.values())
        found = len(self.found)
        places = ", ".join(sorted(self.places_searched)) or "nowhere"
        return [
            f"bad definitions: {len(self.definitions)} tried, {refused} refused clearly"
            + (" (nothing accepted that would crash later)" if refused == len(self.definitions) else ""),
            f"faults: {len(self.faults)} injected, {survived} survived"
            + (": nothing lost, nothing stale" if survived == len(self.faults) else ""),
            f"secrets: {len(self.planted)} planted, {found} found (searched: {places})"
            + (": nothing leaked" if found == 0 else ""),
        ]


LEDGER = Ledger()


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (LEDGER.definitions or LEDGER.faults or LEDGER.planted):
        return
    terminalreporter.section("reliability figures")
    for line in LEDGER.lines():
        terminalreporter.write_line(line)
    not_refused = sorted(name for name, ok in LEDGER.definitions.items() if not ok)
    not_survived = sorted(name for name, ok in LEDGER.faults.items() if not ok)
    for title, names in (("not refused clearly", not_refused), ("not survived", not_survived)):
        if names:
            terminalreporter.write_line(f"{title}: {', '.join(names)}")
    for name, figure in sorted(LEDGER.measured.items()):
        terminalreporter.write_line(f"{name}: {figure}")
    for secret, places in sorted(LEDGER.found.items()):
        terminalreporter.write_line(f"secret {secret[:4]}... found in: {'; '.join(sorted(places))[:500]}")


def write_pipeline(
    dags_folder: Path,
    dag_id: str,
    body: str,
    scripts: dict[str, str] | None = None,
    *,
    default_args: str = '{"tracking": "off"}',
) -> Path:
    """A DAG file ``<dag_id>.py`` in the DAGs folder, its scripts in ``<dag_id>_steps/``.

    ``body`` is the inside of ``with DAG(...)``.
    """
    steps = dags_folder / f"{dag_id}_steps"
    steps.mkdir(exist_ok=True)
    # Each pipeline's scripts are its own: fingerprints hold no DAG id, so a step equal to
    # another test's step would reuse that test's result.
    for name, text in (scripts or {}).items():
        (steps / name).write_text(f"# {dag_id}\n" + textwrap.dedent(text))
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write(f"{dag_id}_steps/\n")
    path = dags_folder / f"{dag_id}.py"
    path.write_text(
        "from airflow.sdk import DAG, Param\n"
        "from airflow_ml_provider import (DataReference, DataTransferStep, Environment, EstimatorStep,\n"
        "                                 PipelineData, PipelineParameter, PythonScriptStep)\n"
        f'with DAG("{dag_id}", schedule=None, default_args={default_args}):\n'
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    return path


@dataclass
class S3Endpoint:
    endpoint: str
    client: Any
    bucket: str


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """A real S3 HTTP endpoint on loopback (moto's server), with one bucket."""
    import boto3
    from servers import free_port

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    client.create_bucket(Bucket="reliability")
    yield S3Endpoint(endpoint, client, "reliability")
    server.terminate()
    server.wait(timeout=20)


@dataclass
class MlflowServer:
    uri: str
    folder: Path  # its SQLite store and artifacts


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` on loopback."""
    from servers import start_server, stop

    folder = tmp_path_factory.mktemp("mlflow-server")
    uri, server = start_server(folder)
    yield MlflowServer(uri, folder)
    stop(server)


def define_connection(name: str, connection: dict[str, Any]) -> None:
    os.environ[f"AIRFLOW_CONN_{name.upper()}"] = json.dumps(connection)
