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
console = Console()
if not console.is_terminal:
    console = Console(width=200)
