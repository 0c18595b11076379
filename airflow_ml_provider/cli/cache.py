"""``airflow-ml cache``: list, clear and explain step cache entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import cache_app, console


@contextmanager
def _usable_store() -> Iterator[None]:
    """A damaged or unreachable cache database becomes a clear error and exit code 1."""
    from sqlalchemy.exc import OperationalError

    from airflow_ml_provider.caching.store import StepCacheDamagedError, unreachable_store

    try:
        yield
    except StepCacheDamagedError as error:
        console.print(f"[red]error[/red] {error}", soft_wrap=True)
        raise typer.Exit(code=1) from None
    except OperationalError as error:
        console.print(f"[red]error[/red] {unreachable_store(error)}", soft_wrap=True)
        raise typer.Exit(code=1) from None


@cache_app.command("list")
def cache_list(
    dag: Annotated[str | None, typer.Option(help="Only this DAG")] = None,
    step: Annotated[str | None, typer.Option(help="Only this step")] = None,
    limit: Annotated[int, typer.Option(help="Entries per page")] = 50,
    after: Annotated[
        str | None, typer.Option(help="The page after this fingerprint (printed below a page)")
    ] = None,
) -> None:
    """Cached step results: fingerprint, producing run, outputs; a page at a time."""
    from datetime import datetime

    from airflow_ml_provider.caching.store import StepCacheStore

    with _usable_store():
        found = StepCacheStore().list_entries(dag, step, limit=limit + 1, after=after)
    page, more = found[:limit], len(found) > limit
    table = Table(title="step cache")
    for column in ("dag", "step", "fingerprint", "produced by", "created", "outputs"):
        table.add_column(column, overflow="fold")
    for entry in page:
        table.add_row(
            entry.dag_id,
            entry.step,
            entry.fingerprint[:16],
            f"{entry.origin.produced_by.run_id} (attempt {entry.origin.produced_by.attempt})",
            datetime.fromtimestamp(entry.created_at).isoformat(timespec="seconds"),
            ", ".join(sorted(entry.outputs)),
        )
    console.print(table)
    if more:
        filters = "".join(f" --{name} {value}" for name, value in (("dag", dag), ("step", step)) if value)
        console.print(f"more: airflow-ml cache list{filters} --after {page[-1].fingerprint}", soft_wrap=True)


@cache_app.command("clear")
def cache_clear(
    dag: Annotated[str | None, typer.Option(help="Only this DAG")] = None,
    step: Annotated[str | None, typer.Option(help="Only this step")] = None,
    fingerprint: Annotated[str | None, typer.Option(help="Only this fingerprint (or its prefix)")] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Every entry of every DAG")] = False,
    expired: Annotated[bool, typer.Option("--expired", help="Entries older than cache_ttl_seconds")] = False,
) -> None:
    """Forget cached results, so the steps run again next time."""
    from airflow_ml_provider import settings
    from airflow_ml_provider.caching.store import StepCacheDamagedError, StepCacheStore, set_aside_damaged

    if expired:
        ttl = settings.cache_ttl_seconds()
        if ttl is None:
            raise typer.BadParameter("no [ml_pipelines] cache_ttl_seconds is set: no entry expires")
        with _usable_store():
            removed = StepCacheStore().sweep_expired(ttl)
        console.print(f"cleared {removed} expired cache entr{'y' if removed == 1 else 'ies'}")
        return
    if not (dag or step or fingerprint or all_entries):
        raise typer.BadParameter("say what to clear: --dag, --step, --fingerprint, --expired or --all")
    with _usable_store():
        try:
            removed = StepCacheStore().clear(dag, step, fingerprint)
        except StepCacheDamagedError:
            # Clearing everything of a damaged SQLite cache: set the file aside, start a new one.
            aside = set_aside_damaged(settings.cache_url()) if all_entries else None
            if aside is None:
                raise
            StepCacheStore()
            console.print(f"the damaged step cache was set aside as {aside}; a new, empty one was created")
            return
    console.print(f"cleared {removed} cache entr{'y' if removed == 1 else 'ies'}")


@cache_app.command("explain")
def cache_explain(
    dag_id: Annotated[str, typer.Argument(help="The pipeline (DAG id)")],
    step: Annotated[str, typer.Argument(help="The step")],
    run_id: Annotated[str | None, typer.Option(help="The DAG run (default: the latest)")] = None,
) -> None:
    """Why a step ran or was reused, field by field against the closest earlier result."""
    from airflow_ml_provider.caching.explain import compare_fields
    from airflow_ml_provider.caching.store import StepCacheStore

    with _usable_store():
        store = StepCacheStore()
        decisions = store.decisions(dag_id, step, run_id)
    if not decisions:
        console.print(
            f'no decision recorded for step "{step}" of DAG "{dag_id}"'
            + (f" in run {run_id}" if run_id else "")
        )
        raise typer.Exit(code=1)
    decision = decisions[-1]
    console.print(f"[bold]{dag_id}.{step}[/bold] in run {decision.run_id}: {decision.message}")
    with _usable_store():
        earlier = store.latest(dag_id, step, before=decision.at)
    if decision.pre_image is None or earlier is None:
        console.print("no earlier result of this step to compare with")
        return
    table = Table(title=f"against the result of run {earlier.origin.produced_by.run_id}")
    for column in ("field", "earlier", "this run", ""):
        table.add_column(column, overflow="fold")
    for field, old, new in compare_fields(earlier.pre_image, decision.pre_image):
        table.add_row(field, old, new, "[red]changed[/red]" if old != new else "same")
    console.print(table)
