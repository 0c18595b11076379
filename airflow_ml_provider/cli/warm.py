"""What the run server builds before it forks, and what a child sets up for its caller.

Built once, before any fork: imports (Airflow, every module of the provider, MLflow and its
SQL store), Airflow's in-process execution API with the routes of every API version, and
Airflow's metrics registry. Nothing here opens a database connection, starts a thread or
an event loop, or loads user code (DAG files, plugins): those would not survive a fork, or
would go stale. The execution API's own loop thread is started by each child on first use.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
import sysconfig
from typing import Any

log = logging.getLogger(__name__)

# Beside the provider's own modules: what a run or a status imports from Airflow and MLflow.
_MODULES = (
    "airflow.dag_processing.bundles.local",
    "airflow.dag_processing.collection",
    "airflow.dag_processing.dagbag",
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "airflow.providers.standard.operators.python",
    "airflow.providers.standard.sensors.external_task",
    "airflow.utils.cli",
    "a2wsgi",
    "anyio._backends._asyncio",
    "mlflow",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.db.utils",
    "sqlalchemy.dialects.sqlite",
)


def _import(name: str) -> None:
    try:
        importlib.import_module(name)
    except Exception as error:  # an optional extra not installed: its users import it in the child
        log.debug("not warmed: %s (%s: %s)", name, type(error).__name__, error)


def provider_modules() -> list[str]:
    """Every module of the provider; the runtime beside step scripts needs none of the server."""
    import airflow_ml_provider

    return [
        found.name
        for found in pkgutil.walk_packages(airflow_ml_provider.__path__, "airflow_ml_provider.")
        if not found.name.startswith("airflow_ml_provider.runtime")
    ]


def build() -> None:
    """Import and build what every command would, before any fork."""
    from airflow_ml_provider.cli import app  # noqa: F401  (every command registered)

    for name in (*provider_modules(), *_MODULES):
        _import(name)
    _build_execution_api()
    _build_metrics_registry()


def _build_execution_api() -> None:
    # dag.test() runs each task against this in-process API; the versioned routes (Cadwyn) are
    # generated on its first request otherwise, once per process: most of a run's start-up.
    try:
        from airflow.sdk.execution_time.supervisor import in_process_api_server

        app: Any = in_process_api_server().app
    except (ImportError, AttributeError) as error:  # another Airflow: built by each child instead
        log.debug("execution API not warmed: %s", error)
        return
    initialise = getattr(app, "_cadwyn_initialize", None)
    if callable(initialise) and not getattr(app, "_cadwyn_initialized", True):
        initialise()


def _build_metrics_registry() -> None:
    try:
        from airflow._shared.observability.metrics import stats

        stats._get_registry()
    except (ImportError, AttributeError) as error:  # another Airflow: built by the child instead
        log.debug("metrics registry not warmed: %s", error)


def _site_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple(os.path.join(os.path.realpath(paths[name]), "") for name in names if name in paths)


def loaded_sources() -> dict[str, tuple[int, int]]:
    """(mtime, size) of each loaded module's file outside the interpreter's and the site's folders.

    Installed distributions are covered by the server's key; these are the files that can
    change under a running server: an editable install's sources, ``airflow_local_settings``.
    """
    site = _site_folders()
    sources: dict[str, tuple[int, int]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        real = os.path.realpath(path)
        if real.startswith(site):
            continue
        try:
            found = os.stat(real)
        except OSError:
            continue
        sources[real] = (found.st_mtime_ns, found.st_size)
    return sources


def changed_sources(sources: dict[str, tuple[int, int]]) -> list[str]:
    """The files of ``sources`` that changed (or went) since they were recorded."""
    changed = []
    for path, stamp in sources.items():
        try:
            found = os.stat(path)
        except OSError:
            changed.append(path)
            continue
        if (found.st_mtime_ns, found.st_size) != stamp:
            changed.append(path)
    return changed


_DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3", "-wal", "-shm", "-journal")


def open_databases() -> list[str]:
    """Database files this process holds open (Linux; elsewhere none are found).

    A SQLite handle copied into a child would share its locks and file offsets with this process:
    a server holding one must not fork.
    """
    found = []
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return []
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            continue
        if target.endswith(_DATABASE_SUFFIXES):
            found.append(target)
    return found


def for_caller() -> None:
    """In a child, once the caller's descriptors, folder and environment are in place."""
    # The server's stdout was a log file: buffer per line again when it is now a terminal.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(line_buffering=stream.isatty())
    from airflow import settings

    from airflow_ml_provider.cli.app import refresh_console

    # Airflow drops the pool it inherited at fork itself; this says so where it matters.
    engine = getattr(settings, "engine", None)
    if engine is not None:
        engine.dispose(close=False)
    refresh_console()
