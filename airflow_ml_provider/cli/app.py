"""The ``airflow-ml`` Typer application and its command groups; commands live in sibling modules."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="ML pipelines on Airflow: validate, datastores, runs.", no_args_is_help=True)
datastore_app = typer.Typer(help="Put data on a datastore.", no_args_is_help=True)
app.add_typer(datastore_app, name="datastore")
cache_app = typer.Typer(help="The step cache: list, clear, explain.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
endpoint_app = typer.Typer(
    help="Published pipelines: list, versions, set-default, disable, enable.", no_args_is_help=True
)
app.add_typer(endpoint_app, name="endpoint")
module_app = typer.Typer(
    help="Published modules: publish, list, show, set-default, deprecate, disable, enable.",
    no_args_is_help=True,
)
app.add_typer(module_app, name="module")
server_app = typer.Typer(help="The warm run server of this AIRFLOW_HOME: status, stop.", no_args_is_help=True)
app.add_typer(server_app, name="server")
NO_SERVER_HELP = (
    "Run in this process, not in the warm run server of this AIRFLOW_HOME "
    "(every run: [ml_pipelines] run_server_idle_seconds = 0)"
)


def _console() -> Console:
    found = Console()
    return found if found.is_terminal else Console(width=200)


console = _console()


def refresh_console() -> None:
    """Size and colours from this process's stdout again: a run server's child writes to its
    caller's terminal, not to the stdout the server was started with."""
    console.__dict__.update(_console().__dict__)
