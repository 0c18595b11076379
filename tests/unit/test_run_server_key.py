"""Which run server a command goes to, and when a warm server must not serve any more.

The caller computes the key before importing anything heavy: no Airflow here.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from airflow_ml_provider.cli import warm
from airflow_ml_provider.runserver import client, key

BASE = {"AIRFLOW_HOME": "/srv/airflow", "PATH": "/usr/bin", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}


def test_the_key_follows_configuration_not_what_each_command_reads_fresh(tmp_path: Path):
    env = {**BASE, "AIRFLOW_HOME": str(tmp_path)}
    same = key.server_key(env)

    assert key.server_key(dict(env)) == same
    # Read fresh by each child: connections, variables, the folder, the terminal.
    for name, value in (
        ("AIRFLOW_CONN_SAMPLES", '{"conn_type": "mldatastore"}'),
        ("AIRFLOW_VAR_LIMIT", "3"),
        ("PWD", "/elsewhere"),
        ("COLUMNS", "80"),
    ):
        assert key.server_key({**env, name: value}) == same, name
    # Read once, when Airflow or Python start.
    for name, value in (
        ("AIRFLOW__CORE__DAGS_FOLDER", "/other/dags"),
        ("AIRFLOW_HOME", str(tmp_path / "other")),
        ("MLFLOW_ENABLE_WORKSPACES", "true"),
        ("PYTHONPATH", "/extra"),
    ):
        assert key.server_key({**env, name: value}) != same, name
    (tmp_path / "airflow.cfg").write_text("[core]\nparallelism = 4\n")
    written = key.server_key(env)
    assert written != same
    (tmp_path / "airflow.cfg").write_text("[core]\nparallelism = 16\n")
    assert key.server_key(env) != written


def test_the_key_follows_the_installed_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [sys.path[0], str(site)])
    before = key.server_key(BASE)

    (site / "something-1.0.dist-info").mkdir()
    os.utime(site, ns=(1, 1))  # whatever the clock's resolution: a different mtime
    assert key.server_key(BASE) != before


def test_the_idle_setting_comes_from_the_environment_then_the_configuration_file(tmp_path: Path):
    env = {"AIRFLOW_HOME": str(tmp_path)}
    assert key.idle_seconds(env) == key.DEFAULT_IDLE_SECONDS
    (tmp_path / "airflow.cfg").write_text("[ml_pipelines]\nrun_server_idle_seconds = 30\n")
    assert key.idle_seconds(env) == 30
    assert key.idle_seconds({**env, key.IDLE_ENV: "0"}) == 0

    assert client.wanted(["run", "wine_classifier"], env)
    assert client.wanted(["status", "wine_classifier", "-p", "C=2"], env)
    assert not client.wanted(["run", "wine_classifier", "--no-server"], env)
    assert not client.wanted(["validate", "dags"], env)
    assert not client.wanted(["run", "wine_classifier"], {**env, key.IDLE_ENV: "0"})


def test_a_changed_source_file_outside_the_site_folders_is_noticed(tmp_path: Path, monkeypatch):
    module = tmp_path / "served_helper_module.py"
    module.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("served_helper_module")
    try:
        sources = warm.loaded_sources()
        assert str(module.resolve()) in sources
        assert not any("site-packages" in path for path in sources)
        assert warm.changed_sources(sources) == []

        module.write_text("VALUE = 22\n")
        assert warm.changed_sources(sources) == [str(module.resolve())]
    finally:
        sys.modules.pop("served_helper_module", None)


def test_a_socket_deeper_than_an_address_holds_is_reached_through_its_folder(tmp_path: Path):
    import socket

    from airflow_ml_provider.runserver import wire

    folder = tmp_path / ("deep" * 30)
    folder.mkdir()
    path = folder / "0123456789abcdef.sock"
    assert len(str(path)) > 108
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with wire.address(path) as name:
        listener.bind(name)
    listener.listen(1)
    try:
        caller = wire.connect(path)
        assert caller is not None
        served, _ = listener.accept()
        wire.send(caller, {"argv": ["run", "x"]}, fds=[0, 1, 2])
        message, fds = wire.receive_with_fds(served, 3)
        assert message == {"argv": ["run", "x"]} and len(fds) == 3
        for fd in fds:
            os.close(fd)
        caller.close()
        served.close()
    finally:
        listener.close()
    assert wire.connect(folder / "nothing.sock") is None


def test_an_open_database_is_found_before_a_fork(tmp_path: Path):
    import sqlite3

    assert not [path for path in warm.open_databases() if path.startswith(str(tmp_path))]
    connection = sqlite3.connect(tmp_path / "cache.db")
    connection.execute("create table t (x)")
    try:
        assert str(tmp_path / "cache.db") in warm.open_databases()
    finally:
        connection.close()
    assert str(tmp_path / "cache.db") not in warm.open_databases()
