"""Reading the provider's connections, and the names of their types.

Inside Airflow's own processes (task, DAG parsing, triggerer) a connection is read through the
Task SDK; anywhere else (the ``airflow-ml`` CLI) from the configured secrets backends and the
metadata database, so the CLI sees the connections created in the UI as the tasks do.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning

_warned: set[tuple[str, str]] = set()


def in_airflow_process() -> bool:
    """True in a process Airflow runs code in; the same test Airflow's own Connection model makes."""
    return hasattr(sys.modules.get("airflow.sdk.execution_time.task_runner"), "SUPERVISOR_COMMS")


def get_connection(conn_id: str) -> Any:
    """The connection ``conn_id``; raises AirflowNotFoundException when there is none."""
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
