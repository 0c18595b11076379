"""``airflow-ml submit|runs|steps|outputs|cancel``: pipeline runs on a deployment, through its REST API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import app, console
from airflow_ml_provider.cli.run import parse_params
from airflow_ml_provider.client import ClientError, PipelineClient
from airflow_ml_provider.client.api import PASSWORD_VARIABLE, TOKEN_VARIABLE, URL_VARIABLE, USERNAME_VARIABLE

ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", envvar=URL_VARIABLE, help="Airflow API server, e.g. http://localhost:8080"),
]
Token = Annotated[str | None, typer.Option(envvar=TOKEN_VARIABLE, help="A bearer token for the API")]
Username = Annotated[str | None, typer.Option(envvar=USERNAME_VARIABLE, help="User to get a token for")]
Password = Annotated[str | None, typer.Option(envvar=PASSWORD_VARIABLE, help="That user's password")]


@contextmanager
def api_client(
    api_url: str | None, token: str | None, username: str | None, password: str | None
) -> Iterator[PipelineClient]:
    """A client for the command; API errors end the command with their message, not a traceback."""
    try:
        with PipelineClient(api_url, token=token, username=username, password=password) as client:
            yield client
    except (ClientError, KeyError, TimeoutError) as error:
        message = error.args[0] if isinstance(error, KeyError) else str(error)
        console.print(f"[red]error[/red] {message}", soft_wrap=True)
        raise typer.Exit(code=1) from None


def _tags(values: list[str]) -> dict[str, str]:
    tags = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE")
        tags[key] = value
    return tags


@app.command()
def submit(
    dag_id: Annotated[
        str | None, typer.Argument(help="The pipeline (DAG id); left out with --endpoint")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (JSON values)")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Run a published version of this endpoint")] = None,
    version: Annotated[int | None, typer.Option(help="The endpoint's version (default: its default)")] = None,
    regenerate_outputs: Annotated[bool, typer.Option(help="Re-run every step of this run")] = False,
    experiment_name: Annotated[str | None, typer.Option(help="MLflow experiment for this run")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="KEY=VALUE on the MLflow pipeline run")
    ] = None,
    unpause: Annotated[bool, typer.Option(help="Unpause the pipeline if it is paused")] = False,
    wait: Annotated[bool, typer.Option(help="Wait for the run, showing its steps")] = False,
    timeout: Annotated[float | None, typer.Option(help="Give up waiting after this many seconds")] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    username: Username = None,
    password: Password = None,
) -> None:
    """Start a run of a pipeline (or of an endpoint's version) on the deployment.

    Parameters are checked against the pipeline's Params before anything is sent.
    """
    from airflow_ml_provider.endpoints.store import EndpointError

    if not dag_id and not endpoint:
        raise typer.BadParameter("name the pipeline (DAG id), or an endpoint with --endpoint")
    options: dict[str, Any] = {
        "regenerate_outputs": regenerate_outputs,
        "experiment_name": experiment_name,
        "tags": _tags(tag or []),
        "unpause": unpause,
    }
    with api_client(api_url, token, username, password) as client:
        try:
            if endpoint:
                from airflow_ml_provider.endpoints.store import EndpointStore
                from airflow_ml_provider.endpoints.versions import submit_endpoint

                published = EndpointStore().endpoint(endpoint).dag_id
                if dag_id and dag_id != published:
                    raise EndpointError(f'endpoint "{endpoint}" publishes "{published}", not "{dag_id}"')
                run = submit_endpoint(client, endpoint, version, parse_params(param or []), **options)
            else:
                assert dag_id is not None
                run = client.submit(dag_id, parse_params(param or []), **options)
        except EndpointError as error:
            raise ClientError(str(error)) from None
        console.print(f"submitted run [bold]{run.run_id}[/bold] of {run.dag_id}")
        if wait:
            state = run.wait_for_completion(show_output=True, timeout=timeout, console=console)
            if state != "success":
                raise typer.Exit(code=1)


@app.command()
def runs(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    api_url: ApiUrl = None,
    token: Token = None,
    username: Username = None,
    password: Password = None,
) -> None:
    """The latest runs of a pipeline."""
    with api_client(api_url, token, username, password) as client:
        table = Table(title=f"runs of {dag_id}")
        for column in ("run id", "state", "started", "ended", "conf"):
            table.add_column(column, overflow="fold")
        for run in client.list_runs(dag_id, limit):
            record = run.record
            table.add_row(
                run.run_id,
                str(record.get("state")),
                str(record.get("start_date") or ""),
                str(record.get("end_date") or ""),
                _short(record.get("conf")),
            )
        console.print(table)


@app.command()
def steps(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    run_id: Annotated[str, typer.Argument(help="The run")],
    api_url: ApiUrl = None,
    token: Token = None,
    username: Username = None,
    password: Password = None,
) -> None:
    """The steps of a run: status (ran, reused, ...), time, why, and output references."""
    from airflow_ml_provider.client.progress import steps_table

    with api_client(api_url, token, username, password) as client:
        run = client.get_run(dag_id, run_id)
        console.print(
            steps_table(f"{dag_id}  {run_id}  {run.record.get('state')}", run.get_steps(), outputs=True)
        )


@app.command()
def outputs(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    run_id: Annotated[str, typer.Argument(help="The run")],
    step: Annotated[str, typer.Argument(help="The step")],
    output: Annotated[str | None, typer.Option(help="Only this output")] = None,
    download: Annotated[Path | None, typer.Option(help="Copy the output(s) into this folder")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace what is in the folder")] = False,
    api_url: ApiUrl = None,
    token: Token = None,
    username: Username = None,
    password: Password = None,
) -> None:
    """A step's outputs in a run: where each is, its digest and producer; --download copies them."""
    with api_client(api_url, token, username, password) as client:
        step_run = client.get_run(dag_id, run_id).step(step)
        chosen = [step_run.get_output_data(output)] if output else list(step_run.outputs.values())
        table = Table(title=f"outputs of {step} in {run_id}")
        for column in ("output", "uri", "digest", "size", "files", "produced by"):
            table.add_column(column, overflow="fold")
        for data in chosen:
            table.add_row(
                data.name,
                data.uri,
                data.digest[:23],
                str(data.size),
                str(data.files),
                f"{data.produced_by.run_id} (attempt {data.produced_by.attempt})",
            )
        console.print(table)
        for data in chosen if download else []:
            assert download is not None
            console.print(f"{data.name} -> {data.download(download, overwrite=overwrite)}")


@app.command()
def cancel(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    run_id: Annotated[str, typer.Argument(help="The run")],
    api_url: ApiUrl = None,
    token: Token = None,
    username: Username = None,
    password: Password = None,
) -> None:
    """Stop a run: it is marked failed and its running steps are stopped."""
    with api_client(api_url, token, username, password) as client:
        run = client.get_run(dag_id, run_id)
        run.cancel()
        console.print(f"run {run_id} of {dag_id}: {run.record.get('state')}")


def _short(value: Any, length: int = 120) -> str:
    text = "" if not value else str(value)
    return text if len(text) <= length else text[: length - 3] + "..."
