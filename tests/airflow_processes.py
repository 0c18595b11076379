"""Real Airflow processes for end-to-end tests: api-server, scheduler, dag-processor, triggerer.

Each deployment has its own ``AIRFLOW_HOME`` (metadata DB, logs, dags folder), its own free
port, an ``admin`` user with a generated password, and a shared JWT secret so that task
processes can talk to the execution API. Everything it starts runs in its own process group
and is stopped by :meth:`AirflowProcesses.stop` (also when a start fails half-way).

    with airflow_processes(tmp_path / "airflow", dags_folder) as airflow:
        token = airflow.token()
        airflow.request("PATCH", "/api/v2/dags/my_dag", json={"is_paused": False})

LocalExecutor on SQLite by default. Other topologies pass ``env`` (for example
``AIRFLOW__CORE__EXECUTOR=CeleryExecutor`` and a PostgreSQL ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``),
choose ``components``, and start extra processes with :meth:`AirflowProcesses.start`
(``airflow.start("worker-gpu", "celery", "worker", "--queues", "gpu")``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from servers import free_port

DEFAULT_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USERNAME = "admin"


def inherited_environment() -> dict[str, str]:
    """This process's environment without its Airflow settings, connections and variables
    (the tests' own AIRFLOW_CONN_*, say): a deployment sees only what it is given."""
    return {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}


def deployment_environment(home: Path, dags_folder: Path, port: int) -> dict[str, str]:
    """What every process of one deployment shares (strings only, for subprocess)."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # New and changed DAG files are seen within seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # A busy test machine answers the execution API slower than the default 5 s.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONWARNINGS": "ignore",
    }


@dataclass
class AirflowProcesses:
    """A running deployment: its environment, its API and the processes it started."""

    home: Path
    dags_folder: Path
    env: dict[str, str]
    api_url: str
    password: str
    username: str = USERNAME
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str | None = None

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``airflow <args>`` with this deployment's environment."""
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env={**inherited_environment(), **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """``airflow <args>`` in the background, logging to ``<home>/logs/process-<name>.log``."""
        log = self.log_path(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env={**inherited_environment(), **self.env},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.home,
        )
        self.processes[name] = process
        return process

    def log_path(self, name: str) -> Path:
        return self.home / "logs" / f"process-{name}.log"

    def log_tail(self, name: str, characters: int = 4000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-characters:] if path.exists() else ""

    def logs(self, characters: int = 2000) -> str:
        """The end of every process's log, for assertion messages."""
        return "\n".join(f"== {name} ==\n{self.log_tail(name, characters)}" for name in self.processes)

    def token(self) -> str:
        """A bearer token from ``POST /auth/token``, as any API client gets one."""
        if self._token is None:
            response = httpx.post(
                f"{self.api_url}/auth/token",
                json={"username": self.username, "password": self.password},
                timeout=30,
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One authenticated API call; the decoded JSON body (or None)."""
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        response = httpx.request(method, f"{self.api_url}{path}", headers=headers, timeout=60, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else None

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 180) -> Any:
        """Poll ``condition`` until it returns something truthy; fail with the logs if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AssertionError(f"airflow {name} exited ({process.returncode})\n{self.logs()}")
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(0.5)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> dict[str, Any]:
        """The DAG's API record, once the dag-processor has parsed and serialized it."""

        def parsed() -> dict[str, Any] | None:
            response = httpx.get(
                f"{self.api_url}/api/v2/dags/{dag_id}",
                headers={"Authorization": f"Bearer {self.token()}"},
                timeout=30,
            )
            return response.json() if response.status_code == 200 else None

        return dict(self.wait_for(parsed, f"DAG {dag_id} to be parsed", timeout))

    def stop(self, grace_seconds: float = 5) -> None:
        """SIGTERM to each process group (the API server last: the others report to it), then
        SIGKILL to what is still there after ``grace_seconds``."""
        names = sorted(self.processes, key=lambda name: name == "api-server")
        for group in ([name for name in names if name != "api-server"], ["api-server"]):
            running = [self.processes[name] for name in group if name in self.processes]
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_seconds
            for process in running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def start_airflow(
    home: Path,
    dags_folder: Path,
    *,
    components: Sequence[str] = DEFAULT_COMPONENTS,
    env: dict[str, str] | None = None,
    before_start: Callable[[AirflowProcesses], None] | None = None,
) -> AirflowProcesses:
    """Migrate the metadata DB, call ``before_start`` (to define connections, say), start the API
    server, wait for it, then the other components."""
    home.mkdir(parents=True, exist_ok=True)
    dags_folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({USERNAME: password}))
    airflow = AirflowProcesses(
        home=home,
        dags_folder=dags_folder,
        env={**deployment_environment(home, dags_folder, port), **(env or {})},
        api_url=f"http://127.0.0.1:{port}",
        password=password,
    )
    migrated = airflow.cli("db", "migrate")
    if migrated.returncode != 0:
        raise AssertionError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
    if before_start is not None:
        before_start(airflow)
    try:
        if "api-server" in components:
            airflow.start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
            airflow.wait_for(lambda: _healthy(airflow.api_url), "the API server to answer", timeout=120)
        for component in components:
            if component != "api-server":
                airflow.start(component, component)
    except BaseException:
        airflow.stop()
        raise
    return airflow


@contextlib.contextmanager
def airflow_processes(
    home: Path,
    dags_folder: Path,
    *,
    components: Sequence[str] = DEFAULT_COMPONENTS,
    env: dict[str, str] | None = None,
    before_start: Callable[[AirflowProcesses], None] | None = None,
) -> Iterator[AirflowProcesses]:
    """A deployment for the duration of a ``with`` block; every process it started is stopped."""
    airflow = start_airflow(home, dags_folder, components=components, env=env, before_start=before_start)
    try:
        yield airflow
    finally:
        airflow.stop()


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
