"""``airflow-ml server status|stop``: the warm run servers of this AIRFLOW_HOME."""

from __future__ import annotations

import time

from rich.table import Table

from airflow_ml_provider.cli.app import console, server_app
from airflow_ml_provider.runserver.client import server_request
from airflow_ml_provider.runserver.key import server_folder


@server_app.command("status")
def server_status() -> None:
    """The run servers of this AIRFLOW_HOME: pid, age, commands served and running."""
    answers = server_request({"status": True})
    if not answers:
        console.print(f"no run server is listening in {server_folder()}")
        return
    table = Table(title=f"run servers in {server_folder()}")
    for column in ("pid", "up", "served", "running", "exits after idle", "state"):
        table.add_column(column)
    for answer in answers:
        table.add_row(
            str(answer.get("server")),
            f"{time.time() - float(answer.get('started', time.time())):.0f} s",
            str(answer.get("served")),
            str(answer.get("running")),
            f"{float(answer.get('idle_seconds', 0)):.0f} s",
            "stopping" if answer.get("stopping") else "ready",
        )
    console.print(table)


@server_app.command("stop")
def server_stop() -> None:
    """Stop the run servers of this AIRFLOW_HOME (each after the commands it is running)."""
    answers = server_request({"stop": True})
    for answer in answers:
        console.print(
            f"run server {answer.get('server')} stops after {answer.get('running')} running command(s)"
        )
    if not answers:
        console.print(f"no run server is listening in {server_folder()}")
