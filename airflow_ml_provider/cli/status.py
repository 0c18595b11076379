"""``airflow-ml status``: what each step would do if the pipeline ran now, and why."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import NO_SERVER_HELP, app, console
from airflow_ml_provider.cli.run import parse_params

SAYS = {
    "reuse": "[green]reuse[/green]",
    "run": "[yellow]run[/yellow]",
    "after": "[yellow]after upstream[/yellow]",
    "wait": "[cyan]wait[/cyan]",
    "uncached": "[red]run, uncached[/red]",
}


@app.command()
def status(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE")] = None,
    conf: Annotated[str | None, typer.Option(help="Run conf as JSON")] = None,
    no_server: Annotated[bool, typer.Option("--no-server", help=NO_SERVER_HELP)] = False,
) -> None:
    """What each step would do if the pipeline ran now, and why; runs nothing, records nothing."""
    from airflow_ml_provider.dag_runs import RunRequestError, check_parameters
    from airflow_ml_provider.status import find_pipeline, pipeline_status

    params = parse_params(param or [])
    dag = find_pipeline(dag_id)
    if dag is None:
        console.print(
            f'[red]error[/red] pipeline "{dag_id}" was not found in the DAGs folder, or its DAG file '
            "failed to parse. Run `airflow-ml validate` to see why.",
            soft_wrap=True,
        )
        raise typer.Exit(code=2)
    try:
        check_parameters(dag, params)
    except RunRequestError as error:
        console.print(f"[red]error[/red] {error}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    steps = pipeline_status(dag, run_conf={**json.loads(conf or "{}"), **params})
    table = Table(title=f"{dag_id}: if it ran now")
    for column in ("step", "would", "why"):
        table.add_column(column, overflow="fold")
    for step in steps:
        table.add_row(step.name, SAYS.get(step.decision, step.decision), step.message)
    console.print(table)
    reused = sum(step.decision == "reuse" for step in steps)
    console.print(f"{reused} of {len(steps)} steps would be reused")
