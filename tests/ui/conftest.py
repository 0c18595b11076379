"""A real `airflow api-server` with the provider's UI plugin, on the tests' metadata DB, with
pipeline runs made by dag.test(), two users, and Debian's Chromium driven by Playwright.

Users (simple auth manager, multi-team mode): "ada" (admin) may read everything; "bob" (op,
team "red") may not read DAG ``secret_pipeline``, whose DAG bundle belongs to team "blue".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import free_port
from ui_site import PASSWORDS, REPO, Site

PIPELINE = Path(__file__).parent / "ui_pipeline"
SECRET_DAG = """
from airflow.sdk import DAG
from airflow_ml_provider import PipelineData, PythonScriptStep

with DAG("secret_pipeline", schedule=None):
    PythonScriptStep(name="keep", script_name="keep.py", source_directory="secret_pipeline_steps",
                     arguments=["--out", PipelineData("kept")], outputs=[PipelineData("kept")])
"""
SECRET_SCRIPT = """
import argparse, os
parser = argparse.ArgumentParser(); parser.add_argument("--out"); args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "secret.txt"), "w").write("only team blue may read this")
"""


def _teams(dag_id: str) -> None:
    """DAG ``dag_id`` moves to a DAG bundle owned by team "blue" (what a bundle configured with
    ``team_name`` gives in multi-team mode)."""
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.team import Team
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        for name in ("blue", "red"):
            if session.get(Team, name) is None:
                session.add(Team(name=name))
        bundle = session.get(DagBundleModel, "team_blue")
        if bundle is None:
            bundle = DagBundleModel(name="team_blue")
            session.add(bundle)
        session.flush()
        bundle.teams = [session.get(Team, "blue")]
        dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
        dag.bundle_name = "team_blue"


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text()[-4000:])
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(log.read_text()[-4000:])


@pytest.fixture(scope="session")
def site(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from airflow_ml_provider.dag_runs import run_pipeline

    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    work = tmp_path_factory.mktemp("ui")
    # A step cache of its own: these runs neither reuse nor feed other tests' results.
    cache = {"AIRFLOW__ML_PIPELINES__CACHE_URL": f"sqlite:///{work / 'step-cache.db'}"}
    saved = {key: os.environ.get(key) for key in cache}
    os.environ.update(cache)
    from airflow_ml_provider.spec_dag import loader_source

    shutil.copytree(PIPELINE, dags_folder / "ui_pipeline", dirs_exist_ok=True)
    (dags_folder / "ui_pipeline" / "ui_pipeline.py").write_text(loader_source("ui_pipeline.pipeline.yaml"))
    (dags_folder / "secret_pipeline_steps").mkdir(exist_ok=True)
    (dags_folder / "secret_pipeline_steps" / "keep.py").write_text(SECRET_SCRIPT)
    (dags_folder / "secret_pipeline.py").write_text(SECRET_DAG)
    with (dags_folder / ".airflowignore").open("a") as ignore:
        ignore.write("secret_pipeline_steps/\nui_pipeline/steps/\n")
    try:
        spec_dag = str(dags_folder / "ui_pipeline" / "ui_pipeline.py")
        first, _ = run_pipeline("ui_pipeline", dag_file=spec_dag)
        second, _ = run_pipeline("ui_pipeline", {"alpha": 0.5}, dag_file=spec_dag)
        secret, _ = run_pipeline("secret_pipeline", dag_file=str(dags_folder / "secret_pipeline.py"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert (str(first.state), str(second.state), str(secret.state)) == ("success",) * 3
    _teams("secret_pipeline")

    passwords = work / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "api-server.log"
    env = {
        **os.environ,
        **cache,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "AIRFLOW__CORE__MULTI_TEAM": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "ada:admin,bob:op:red",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(url, server, log)
        shots = Path(os.environ.get("AML_UI_SCREENSHOTS") or work / "screenshots")
        shots.mkdir(parents=True, exist_ok=True)
        yield Site(
            url, {"first": first.run_id, "second": second.run_id, "secret": secret.run_id}, work, shots
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # its workers take their time to stop on a busy machine
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = subprocess.run(
        ["bash", str(REPO / "scripts" / "chromium.sh")], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, found.stderr[-3000:]
    return found.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page_as(site: Site, browser: Any) -> Iterator[Any]:
    """A page logged in as a user (the JWT cookie Airflow's own login sets)."""
    contexts = []

    def open_as(user: str) -> Any:
        context = browser.new_context(viewport={"width": 1500, "height": 950})
        context.add_cookies([{"name": "_token", "value": site.token(user), "url": site.url}])
        contexts.append(context)
        page = context.new_page()
        # Generous: Airflow's UI loads slowly on a busy 2-core machine.
        page.set_default_timeout(120_000)
        page.set_default_navigation_timeout(180_000)
        return page

    yield open_as
    for context in contexts:
        context.close()
