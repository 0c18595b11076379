"""``airflow-ml cache``: list, clear and explain step cache entries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import cache_app, console


@cache_app.command("list")
def cache_list(
    dag: Annotated[str | None, typer.Option(help="Only this DAG")] = None,
    step: Annotated[str | None, typer.Option(help="Only this step")] = None,
) -> None:
    """Cached step results: fingerprint, producing run, outputs."""
    from datetime import datetime

    from airflow_ml_provider.caching.store import StepCacheStore

    table = Table(title="step cache")
    for column in ("dag", "step", "fingerprint", "produced by", "created", "outputs"):
        table.add_column(column, overflow="fold")
    for entry in StepCacheStore().list_entries(dag, step):
        table.add_row(
            entry.dag_id,
            entry.step,
            entry.fingerprint[:16],
            f"{entry.produced_by.get('run_id')} (attempt {entry.produced_by.get('try')})",
            datetime.fromtimestamp(entry.created_at).isoformat(timespec="seconds"),
            ", ".join(sorted(entry.outputs)),
        )
    console.print(table)


@cache_app.command("clear")
def cache_clear(
    dag: Annotated[str | None, typer.Option(help="Only this DAG")] = None,
    step: Annotated[str | None, typer.Option(help="Only this step")] = None,
    fingerprint: Annotated[str | None, typer.Option(help="Only this fingerprint (or its prefix)")] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Every entry of every DAG")] = False,
) -> None:
    """Forget cached results, so the steps run again next time."""
    from airflow_ml_provider.caching.store import StepCacheStore

    if not (dag or step or fingerprint or all_entries):
        raise typer.BadParameter("say what to clear: --dag, --step, --fingerprint, or --all")
    removed = StepCacheStore().clear(dag, step, fingerprint)
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
    earlier = store.latest(dag_id, step, before=decision.at)
    if decision.pre_image is None or earlier is None:
        console.print("no earlier result of this step to compare with")
        return
    table = Table(title=f"against the result of run {earlier.produced_by.get('run_id')}")
    for column in ("field", "earlier", "this run", ""):
        table.add_column(column, overflow="fold")
    for field, old, new in compare_fields(earlier.pre_image, decision.pre_image):
        table.add_row(field, old, new, "[red]changed[/red]" if old != new else "same")
    console.print(table)
