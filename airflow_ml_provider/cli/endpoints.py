"""``airflow-ml publish`` and ``airflow-ml endpoint list|versions|set-default|disable|enable``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import app, console, endpoint_app
from airflow_ml_provider.endpoints.store import EndpointError, EndpointStore


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[red]error[/red] {error}", soft_wrap=True)
    return typer.Exit(code=1)


@app.command()
def publish(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id) to publish")],
    endpoint: Annotated[str, typer.Option(help="The endpoint's name")],
    description: Annotated[str, typer.Option(help="What this version is")] = "",
) -> None:
    """Publish the pipeline's current code as the next version of an endpoint."""
    from airflow_ml_provider.endpoints.versions import publish as publish_version

    try:
        version, new = publish_version(dag_id, endpoint, description=description)
    except EndpointError as error:
        raise _fail(error) from None
    what = "published" if new else "unchanged since"
    console.print(
        f"endpoint [bold]{endpoint}[/bold] {what} version {version.version}: DAG {version.dag_id} "
        f"version {version.dag_version}, pipeline digest {version.pipeline_digest[:16]}"
    )


@endpoint_app.command("list")
def endpoint_list() -> None:
    """Every endpoint: its pipeline, default version, and whether it is enabled."""
    table = Table(title="endpoints")
    for column in ("endpoint", "pipeline", "default version", "state"):
        table.add_column(column)
    for endpoint in EndpointStore().endpoints():
        state = "disabled" if endpoint.disabled else "enabled"
        table.add_row(endpoint.name, endpoint.dag_id, str(endpoint.default_version), state)
    console.print(table)


@endpoint_app.command("versions")
def endpoint_versions(name: Annotated[str, typer.Argument(help="The endpoint")]) -> None:
    """The versions of an endpoint (Azure ML's list_versions)."""
    store = EndpointStore()
    try:
        default = store.endpoint(name).default_version
        versions = store.versions(name)
    except EndpointError as error:
        raise _fail(error) from None
    table = Table(title=f"versions of {name}")
    for column in (
        "version",
        "",
        "DAG version",
        "bundle version",
        "pipeline digest",
        "published",
        "description",
    ):
        table.add_column(column, overflow="fold")
    for version in versions:
        table.add_row(
            str(version.version),
            "default" if version.version == default else "",
            str(version.dag_version),
            version.bundle_version or "",
            version.pipeline_digest[:16],
            datetime.fromtimestamp(version.published_at).isoformat(timespec="seconds"),
            version.description,
        )
    console.print(table)


@endpoint_app.command("set-default")
def endpoint_set_default(
    name: Annotated[str, typer.Argument(help="The endpoint")],
    version: Annotated[int, typer.Argument(help="The version that runs when none is asked for")],
) -> None:
    """Choose the version a submit to the endpoint runs by default."""
    try:
        EndpointStore().set_default(name, version)
    except EndpointError as error:
        raise _fail(error) from None
    console.print(f"endpoint {name}: default version {version}")


@endpoint_app.command("disable")
def endpoint_disable(name: Annotated[str, typer.Argument(help="The endpoint")]) -> None:
    """Refuse submits to the endpoint until it is enabled again."""
    try:
        EndpointStore().set_disabled(name, True)
    except EndpointError as error:
        raise _fail(error) from None
    console.print(f"endpoint {name}: disabled")


@endpoint_app.command("enable")
def endpoint_enable(name: Annotated[str, typer.Argument(help="The endpoint")]) -> None:
    """Accept submits to the endpoint again."""
    try:
        EndpointStore().set_disabled(name, False)
    except EndpointError as error:
        raise _fail(error) from None
    console.print(f"endpoint {name}: enabled")
