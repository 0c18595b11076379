"""``airflow-ml validate``: check pipelines before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from airflow_ml_provider.cli.app import app, console

_ERROR_MARKERS = ("PipelineDefinitionError: ", "PipelineSpecError: ", "AirflowClusterPolicyViolation: ")


def _error_text(import_error: str) -> str:
    """The user's part of an import error: our message without the traceback above it."""
    for marker in _ERROR_MARKERS:
        if marker in import_error:
            return import_error.rsplit(marker, 1)[1].strip()
    lines = [line for line in import_error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else import_error


@app.command()
def validate(
    dags_folder: Annotated[Path, typer.Argument(help="Folder of DAG files and pipeline specs, or one spec")],
) -> None:
    """Check every DAG file and pipeline spec (*.pipeline.yaml) in DAGS_FOLDER: data wiring,
    scripts, names, parameters, compute targets."""
    from airflow_ml_provider.pipeline.spec import is_spec_file

    failed = False
    dags: dict[str, Any] = {}
    if dags_folder.is_dir():
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(dags_folder), safe_mode=False)
        for path, error in sorted(bag.import_errors.items()):
            console.print(f"[red]error[/red] {path}: {_error_text(error)}", soft_wrap=True)
        failed = bool(bag.import_errors)
        dags.update(bag.dags)
        specs = sorted(p for p in dags_folder.rglob("*") if p.is_file() and is_spec_file(p.name))
    else:
        specs = [dags_folder]
    for spec in specs:
        dag, problem = _spec_dag(spec)
        if problem:
            console.print(f"[red]error[/red] {spec}: {problem}", soft_wrap=True)
            failed = True
        elif dag is not None:
            console.print(f"[green]ok[/green] {spec} (DAG {dag.dag_id})")
            dags.setdefault(dag.dag_id, dag)
    unknown_targets = _unknown_compute_targets(dags)
    for dag_id in sorted(dags):
        if dag_id in unknown_targets:
            for problem in unknown_targets[dag_id]:
                console.print(f"[red]error[/red] {dag_id}: {problem}", soft_wrap=True)
        else:
            console.print(f"[green]ok[/green] {dag_id}")
    if failed or unknown_targets:
        raise typer.Exit(code=1)


def _spec_dag(path: Path) -> tuple[Any, str | None]:
    """The DAG of a spec file, or why it cannot be one."""
    from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
    from airflow_ml_provider.pipeline.spec import PipelineSpecError
    from airflow_ml_provider.spec_dag import dag_from_spec

    try:
        return dag_from_spec(path), None
    except PipelineSpecError as error:
        return None, "\n  ".join(str(problem) for problem in error.problems)
    except PipelineDefinitionError as error:
        return None, str(error)


def _unknown_compute_targets(dags: dict[str, Any]) -> dict[str, list[str]]:
    """Per DAG, the steps whose compute target resolves to nothing (where connections can be read)."""
    from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook
    from airflow_ml_provider.render import pipeline_of

    problems: dict[str, list[str]] = {}
    for dag_id, dag in dags.items():
        for step in pipeline_of(dag).steps.values():
            target = getattr(step, "compute_target", "local")
            try:
                ComputeTargetHook(target).resolve()
            except ComputeTargetError as error:
                problems.setdefault(dag_id, []).append(f'step "{step.name}": {error}')
    return problems
