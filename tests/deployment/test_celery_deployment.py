"""The topology of docker-compose.yaml, started natively: PostgreSQL, Redis, an S3 endpoint (moto
server), ``mlflow server``, Airflow's api-server, scheduler, dag-processor and triggerer, and two
Celery workers on queues ``default`` and ``gpu``, all from deploy/ (settings, connections,
databases). Through the REST API: unpause and trigger the wine example (outputs on S3), wait;
trigger it again, wait. Every process the test starts is stopped at its end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from airflow_processes import AirflowProcesses, airflow_processes
from deployment_topology import (
    AIRFLOW_COMPONENTS,
    BUCKETS,
    METADATA_DATABASE,
    PUBLISHED,
    REPO,
    SERVICES,
    Localiser,
    databases,
)
from servers import free_port

pytestmark = pytest.mark.integration

DAG_ID = "wine_classifier"
STEPS = ("fetch", "ingest", "featurize", "train", "evaluate", "score")
TRACKED_STEPS = STEPS  # every step kind has an MLflow run, DataTransferStep included
# What the test's own processes, not the deployment's settings, decide.
OWN_SETTINGS = (
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
)


@contextlib.contextmanager
def background(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process for the duration of the block, in its own process group."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(condition: Any, what: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def postgres_databases(prefix: str) -> Iterator[str]:
    """The deployment's databases (and its ``airflow`` role) on the shared PostgreSQL; its address."""
    started = subprocess.run(
        ["bash", str(REPO / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr[-2000:]
    server = started.stdout.strip().splitlines()[-1]
    names = [f"{prefix}{name}" for name in (METADATA_DATABASE, *databases())]
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        role = connection.execute(sqlalchemy.text("select 1 from pg_roles where rolname = 'airflow'")).first()
        if role is None:
            with contextlib.suppress(sqlalchemy.exc.ProgrammingError):  # created meanwhile elsewhere
                connection.execute(sqlalchemy.text("create role airflow login password 'airflow'"))
        for name in names:
            connection.execute(sqlalchemy.text(f"create database {name} owner airflow"))
    try:
        yield server.split("@", 1)[1].split("/", 1)[0]
    finally:
        with engine.connect() as connection:
            for name in names:
                connection.execute(sqlalchemy.text(f"drop database if exists {name} with (force)"))
        engine.dispose()


@pytest.fixture(scope="module")
def celery_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Everything started, connections defined, the wine example parsed; stopped afterwards."""
    import boto3

    work = tmp_path_factory.mktemp("deployment")
    dags = work / "dags"
    shutil.copytree(REPO / "dags", dags)
    redis_server = subprocess.run(
        ["bash", str(REPO / "scripts" / "redis.sh")], capture_output=True, text=True, check=False
    )
    assert redis_server.returncode == 0, redis_server.stderr[-2000:]
    ports = {name: free_port() for name in ("redis", "s3", "mlflow")}
    prefix = f"e2e_{uuid.uuid4().hex[:8]}_"
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(postgres_databases(prefix))
        addresses = {
            SERVICES["postgres"]: postgres,
            SERVICES["redis"]: f"127.0.0.1:{ports['redis']}",
            SERVICES["s3"]: f"127.0.0.1:{ports['s3']}",
            SERVICES["mlflow"]: f"127.0.0.1:{ports['mlflow']}",
            PUBLISHED["mlflow"]: f"127.0.0.1:{ports['mlflow']}",
        }
        localiser = Localiser(addresses, prefix, dags)
        settings = localiser.environment()
        connections = localiser.connections()
        s3_keys = {
            "AWS_ACCESS_KEY_ID": connections["default"]["login"],
            "AWS_SECRET_ACCESS_KEY": connections["default"]["password"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }

        log = work / "redis.log"
        command = [redis_server.stdout.strip().splitlines()[-1], "--port", str(ports["redis"])]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)]
        stack.enter_context(background("redis", command, log))
        wait_until(lambda: listening(ports["redis"]), "redis", log)

        log = work / "s3.log"
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports["s3"])]
        stack.enter_context(background("s3", command, log))
        wait_until(lambda: listening(ports["s3"]), "the S3 endpoint", log)
        s3 = boto3.client("s3", endpoint_url=settings["MLFLOW_S3_ENDPOINT_URL"], **_boto(s3_keys))
        for bucket in BUCKETS:
            s3.create_bucket(Bucket=bucket)

        log = work / "mlflow.log"
        mlflow_url = f"http://{addresses[SERVICES['mlflow']]}"
        command = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(ports["mlflow"]),
            "--workers", "1", "--backend-store-uri", settings["MLFLOW_BACKEND_STORE_URI"],
            "--artifacts-destination", settings["MLFLOW_ARTIFACTS_DESTINATION"],
        ]  # fmt: skip
        mlflow_env = {**s3_keys, "MLFLOW_S3_ENDPOINT_URL": settings["MLFLOW_S3_ENDPOINT_URL"]}
        stack.enter_context(background("mlflow", command, log, mlflow_env))
        wait_until(lambda: _answers(f"{mlflow_url}/health"), "mlflow server", log, timeout=600)

        (work / "connections.json").write_text(json.dumps(connections))

        def define_connections(airflow: AirflowProcesses) -> None:
            # Before the DAG processor starts: it remembers the gpu target's queue when it parses.
            imported = airflow.cli("connections", "import", str(work / "connections.json"))
            assert imported.returncode == 0, imported.stdout + imported.stderr

        env = {key: value for key, value in settings.items() if key not in OWN_SETTINGS}
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "2"  # two workers on a two-core machine
        airflow = stack.enter_context(
            airflow_processes(work / "airflow", dags, env=env, before_start=define_connections)
        )
        for service, command in AIRFLOW_COMPONENTS.items():
            if command[0] == "celery":
                airflow.start(service, *command)
        airflow.wait_for_dag(DAG_ID, timeout=300)
        yield {
            "airflow": airflow,
            "cache_url": settings["AIRFLOW__ML_PIPELINES__CACHE_URL"],
            "mlflow_url": mlflow_url,
        }


def _boto(keys: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": keys["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": keys["AWS_SECRET_ACCESS_KEY"],
        "region_name": keys["AWS_DEFAULT_REGION"],
    }


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def trigger_and_wait(
    airflow: AirflowProcesses, timeout: float = 900
) -> tuple[str, dict[str, dict[str, Any]]]:
    """One run through the REST API; its run id and task instances by task id, once it ended."""
    run = airflow.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {}})
    run_id = run["dag_run_id"]

    def finished() -> str | None:
        try:
            state = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        except httpx.TimeoutException:  # a busy API server: ask again
            return None
        return state if state in ("success", "failed") else None

    state = airflow.wait_for(finished, f"run {run_id}", timeout)
    tasks = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
    instances = {ti["task_id"]: ti for ti in tasks["task_instances"]}
    assert state == "success", f"{run_id}: {state} {_states(instances)}\n{airflow.logs()}"
    return run_id, instances


def _states(instances: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {task_id: ti["state"] for task_id, ti in sorted(instances.items())}


def test_wine_example_on_the_celery_deployment(celery_deployment: dict[str, Any]):
    deployment = celery_deployment
    airflow: AirflowProcesses = deployment["airflow"]
    airflow.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})

    first_id, first = trigger_and_wait(airflow)
    second_id, second = trigger_and_wait(airflow)

    # Run 1 ran every step; run 2 reused every step (every <step>.run skipped).
    assert {step: first[f"{step}.run"]["state"] for step in STEPS} == dict.fromkeys(STEPS, "success")
    assert {step: second[f"{step}.reuse"]["state"] for step in STEPS} == dict.fromkeys(STEPS, "success")
    assert {step: second[f"{step}.run"]["state"] for step in STEPS} == dict.fromkeys(STEPS, "skipped")

    # The step on the "gpu" compute target went to the gpu queue, and the gpu worker ran it.
    assert first["train.run"]["queue"] == "gpu"
    assert {ti["queue"] for task_id, ti in first.items() if task_id != "train.run"} == {"default"}
    gpu_log, default_log = (
        airflow.log_tail("airflow-worker-gpu", 10**7),
        airflow.log_tail("airflow-worker", 10**7),
    )
    assert "task_id='train.run'" in gpu_log and "task_id='train.run'" not in default_log
    assert "task_id='ingest.run'" in default_log and "task_id='ingest.run'" not in gpu_log

    # Outputs are on the object store, and the step cache is in PostgreSQL.
    reference = airflow.request(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{first_id}/taskInstances/train.run/xcomEntries/return_value"
    )["value"]
    model = reference["model"] if isinstance(reference, dict) else json.loads(reference)["model"]
    assert model["uri"].startswith("s3://ml-lake/pipeline-data/")
    engine = sqlalchemy.create_engine(deployment["cache_url"])
    with engine.connect() as connection:
        cached = connection.execute(
            sqlalchemy.text("select step from ml_step_cache_entry where dag_id = :dag"), {"dag": DAG_ID}
        ).scalars()
        assert sorted(cached) == sorted(STEPS)
    engine.dispose()

    # The MLflow server holds both pipeline runs and a child run per tracked step of each.
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=deployment["mlflow_url"])
    experiment = client.get_experiment_by_name(DAG_ID)
    assert experiment is not None

    def with_reused_runs() -> list[Any]:
        found = client.search_runs([experiment.experiment_id], max_results=100)
        return found if sum("reused_from" in run.data.tags for run in found) >= len(TRACKED_STEPS) else []

    # Reused steps' runs are written by the DAG run's closing callback, which the DAG processor
    # runs a moment after the run ended: wait for them (what they hold is asserted below).
    runs = airflow.wait_for(with_reused_runs, "the reused steps' MLflow runs", timeout=300)
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert len(parents) == 2
    for parent in parents:
        children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(run.data.tags["step"] for run in children) == sorted(TRACKED_STEPS)
    assert sum("reused_from" in run.data.tags for run in runs) == len(TRACKED_STEPS)

    # Every "MLflow run" link of a task answers.
    links = []
    for run_id, instances in ((first_id, first), (second_id, second)):
        for task_id in instances:
            found = airflow.request(
                "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/links"
            )
            named = found.get("extra_links", found)
            links += [url for name, url in named.items() if name == "MLflow run" and url]
    assert len(links) >= 2 * len(TRACKED_STEPS)
    for url in links:
        assert httpx.get(url, timeout=30).status_code == 200, url
