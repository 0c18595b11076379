"""``airflow-ml``: validate pipelines, put data on datastores, run a pipeline and show its steps."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="ML pipelines on Airflow: validate, datastores, runs.", no_args_is_help=True)
datastore_app = typer.Typer(help="Put data on a datastore.", no_args_is_help=True)
app.add_typer(datastore_app, name="datastore")
cache_app = typer.Typer(help="The step cache: list, clear, explain.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
console = Console()
if not console.is_terminal:
    console = Console(width=200)

_ERROR_MARKERS = ("PipelineDefinitionError: ", "AirflowClusterPolicyViolation: ")


def _error_text(import_error: str) -> str:
    """The user's part of an import error: our message without the traceback above it."""
    for marker in _ERROR_MARKERS:
        if marker in import_error:
            return import_error.rsplit(marker, 1)[1].strip()
    lines = [line for line in import_error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else import_error


@app.command()
def validate(dags_folder: Annotated[Path, typer.Argument(help="Folder of DAG files")]) -> None:
    """Check every DAG file in DAGS_FOLDER: data wiring, scripts, names, parameters."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder), safe_mode=False)
    for path, error in sorted(bag.import_errors.items()):
        console.print(f"[red]error[/red] {path}: {_error_text(error)}", soft_wrap=True)
    unknown_targets = _unknown_compute_targets(bag)
    for dag_id in sorted(bag.dag_ids):
        if dag_id in unknown_targets:
            for problem in unknown_targets[dag_id]:
                console.print(f"[red]error[/red] {dag_id}: {problem}", soft_wrap=True)
        else:
            console.print(f"[green]ok[/green] {dag_id}")
    if bag.import_errors or unknown_targets:
        raise typer.Exit(code=1)


def _unknown_compute_targets(bag: Any) -> dict[str, list[str]]:
    """Per DAG, the steps whose compute target resolves to nothing (where connections can be read)."""
    from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook
    from airflow_ml_provider.render import pipeline_of

    problems: dict[str, list[str]] = {}
    for dag_id in bag.dag_ids:
        for step in pipeline_of(bag.dags[dag_id]).steps.values():
            target = getattr(step, "compute_target", "local")
            try:
                ComputeTargetHook(target).resolve()
            except ComputeTargetError as error:
                problems.setdefault(dag_id, []).append(f'step "{step.name}": {error}')
    return problems


@datastore_app.command("upload")
def datastore_upload(
    source: Annotated[Path, typer.Argument(help="A file or a folder to upload")],
    datastore: Annotated[str, typer.Option(help="Datastore name")] = "default",
    target_path: Annotated[str, typer.Option(help="Folder on the datastore")] = "",
    overwrite: Annotated[bool, typer.Option(help="Replace files that exist")] = False,
) -> None:
    """Copy local data onto a datastore (as Azure ML's Datastore.upload)."""
    from airflow_ml_provider.datastore import Datastore

    store = Datastore(datastore)
    if source.is_dir():
        store.upload(source, target_path, overwrite=overwrite)
    else:
        store.upload_files([source], target_path, overwrite=overwrite)


def _parse_params(values: list[str]) -> dict[str, Any]:
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
) -> None:
    """Run a pipeline once, in this process, and print its steps with status and outputs."""
    from airflow_ml_provider.runs import run_pipeline

    run_conf = {**json.loads(conf or "{}"), **_parse_params(param or [])}
    dag_run, summaries = run_pipeline(dag_id, run_conf)
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
    from airflow_ml_provider.tracking.config import TrackingUnavailableError
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


def main() -> None:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    app()


if __name__ == "__main__":
    main()
