"""Reading the provider's connections, and the names of their types.

Inside Airflow's own processes (task, DAG parsing, triggerer) a connection is read through the
Task SDK; anywhere else (the ``airflow-ml`` CLI) from the configured secrets backends and the
metadata database, so the CLI sees the connections created in the UI as the tasks do.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from airflow.exceptions import AirflowNotFoundException, AirflowProviderDeprecationWarning

_warned: set[tuple[str, str]] = set()

# Connections already read inside each_connection_read_once(), by id (None: not defined).
_read: ContextVar[dict[str, Any] | None] = ContextVar("_read", default=None)


def in_airflow_process() -> bool:
    """True in a process Airflow runs code in; the same test Airflow's own Connection model makes."""
    return hasattr(sys.modules.get("airflow.sdk.execution_time.task_runner"), "SUPERVISOR_COMMS")


@contextmanager
def each_connection_read_once() -> Iterator[None]:
    """Within it, each connection is read once: in a task every read is a round trip to the API
    server, and one decision reads a datastore's connection for several of its parts."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


def get_connection(conn_id: str) -> Any:
    """The connection ``conn_id``; raises AirflowNotFoundException when there is none."""
    read = _read.get()
    if read is None:
        return _get_connection(conn_id)
    if conn_id not in read:
        try:
            read[conn_id] = _get_connection(conn_id)
        except AirflowNotFoundException:
            read[conn_id] = None
    if read[conn_id] is None:
        raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
    return read[conn_id]


def _get_connection(conn_id: str) -> Any:
    if in_airflow_process():
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


def warn_deprecated_type(conn_id: str, old_type: str, new_type: str) -> None:
    """Once per connection and process: an old type name still works; say what to change it to."""
    if (conn_id, old_type) in _warned:
        return
    _warned.add((conn_id, old_type))
    warnings.warn(
        f'connection "{conn_id}" has type "{old_type}", which is deprecated: change its type to '
        f'"{new_type}" (same fields).',
        AirflowProviderDeprecationWarning,
        stacklevel=3,
    )
