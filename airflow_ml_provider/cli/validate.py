"""``airflow-ml validate``: check pipelines before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from airflow_ml_provider.cli.app import app, console

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
