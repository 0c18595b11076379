"""``airflow-ml run``: run a pipeline in this process and show its steps."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import NO_SERVER_HELP, app, console


def parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not NAME=VALUE")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


@app.command()
def run(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id) to run")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE")] = None,
    conf: Annotated[str | None, typer.Option(help="Run conf as JSON")] = None,
    no_server: Annotated[bool, typer.Option("--no-server", help=NO_SERVER_HELP)] = False,
) -> None:
    """Run a pipeline once, in this process, and print its steps with status and outputs."""
    from airflow_ml_provider.dag_runs import RunRequestError, check_parameters, load_pipeline, run_pipeline

    params = parse_params(param or [])
    run_conf = {**json.loads(conf or "{}"), **params}
    try:
        dag = load_pipeline(dag_id)
        check_parameters(dag, params)
    except RunRequestError as error:
        console.print(f"[red]error[/red] {error}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    dag_run, summaries = run_pipeline(dag_id, run_conf, dag=dag)
    table = Table(title=f"{dag_id}  {dag_run.run_id}  {dag_run.state}")
    for column in ("step", "status", "output", "location", "digest"):
        table.add_column(column, overflow="fold")
    for summary in summaries:
        rows = sorted(summary.outputs.items()) or [("", {})]
        for index, (name, reference) in enumerate(rows):
            table.add_row(
                summary.name if index == 0 else "",
                summary.status if index == 0 else "",
                name,
                str(reference.get("uri", "")),
                str(reference.get("digest", ""))[:19],
            )
    console.print(table)
    _print_tracking(dag_id, dag_run.run_id, summaries)
    if str(dag_run.state) != "success":
        raise typer.Exit(code=1)


def _print_tracking(dag_id: str, run_id: str, summaries: list[Any]) -> None:
    """The run's MLflow record: experiment, parent run, rolled-up metrics, registered models."""
    from airflow_ml_provider.hooks.tracking_config import TrackingUnavailableError
    from airflow_ml_provider.tracking.summary import tracking_summary

    experiment = next((s.experiment_name for s in summaries if s.experiment_name), None) or dag_id
    try:
        summary = tracking_summary(dag_id, run_id, experiment)
    except TrackingUnavailableError as error:
        console.print(f"[yellow]tracking:[/yellow] {error}")
        return
    if summary.parent_run_id is None:
        console.print("MLflow: no run recorded for this pipeline run")
        return
    console.print(
        f"MLflow experiment [bold]{summary.experiment}[/bold] (id {summary.experiment_id}), "
        f"pipeline run {summary.parent_run_id} {summary.parent_status}"
    )
    for name, value in sorted(summary.metrics.items()):
        console.print(f"  {name} = {value:g}")
    for step in summaries:
        if step.model_version:
            console.print(f"  model {step.registered_model} version {step.model_version} (step {step.name})")
    if summary.ui_hint:
        console.print(f"Open the MLflow UI on this store: {summary.ui_hint}")
