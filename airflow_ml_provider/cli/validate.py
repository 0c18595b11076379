"""``airflow-ml validate``: check pipelines before anything runs, as the scheduler will see them.

The DAG files are the ones the DAG processor would parse (``.airflowignore`` and
``[core] dag_discovery_safe_mode`` apply, so plain step scripts are not executed), and the
connections are read where Airflow reads them: secrets backends, environment, metadata database.
"""

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
    dags_folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of DAG files and pipeline specs, or one spec; default: [core] dags_folder"
        ),
    ] = None,
) -> None:
    """Check every DAG file and pipeline spec (*.pipeline.yaml) of the DAGs folder: data wiring,
    scripts, names, parameters, datastores and compute targets."""
    from airflow.configuration import conf

    from airflow_ml_provider.pipeline.spec import is_spec_file

    folder = dags_folder or Path(conf.get("core", "dags_folder"))
    if not folder.exists():
        console.print(f"[red]error[/red] {folder}: no such folder or file")
        raise typer.Exit(code=1)
    console.print(f"checking {folder}", highlight=False)
    failed = False
    dags: dict[str, Any] = {}
    if folder.is_dir():
        try:
            from airflow.dag_processing.dagbag import DagBag
        except ImportError:  # Airflow 3.1
            from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        bag = DagBag(dag_folder=str(folder))
        for path, error in sorted(bag.import_errors.items()):
            console.print(f"[red]error[/red] {path}: {_error_text(error)}", soft_wrap=True)
        failed = bool(bag.import_errors)
        dags.update(bag.dags)
        specs = sorted(p for p in folder.rglob("*") if p.is_file() and is_spec_file(p.name))
    else:
        specs = [folder]
    for spec in specs:
        dag, problem = _spec_dag(spec)
        if problem:
            console.print(f"[red]error[/red] {spec}: {problem}", soft_wrap=True)
            failed = True
        elif dag is not None:
            console.print(f"[green]ok[/green] {spec} (DAG {dag.dag_id})")
            dags.setdefault(dag.dag_id, dag)
    problems = {dag_id: _problems(dags[dag_id]) for dag_id in sorted(dags)}
    for dag_id, found in problems.items():
        for problem in found:
            console.print(f"[red]error[/red] {dag_id}: {problem}", soft_wrap=True)
        if not found:
            console.print(f"[green]ok[/green] {dag_id}")
    if failed or any(problems.values()):
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


def _problems(dag: Any) -> list[str]:
    """What would fail when the DAG runs: named datastores and compute targets that resolve to nothing."""
    from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook
    from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook
    from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
    from airflow_ml_provider.rendered import pipeline_of

    problems: list[str] = []
    for step in pipeline_of(dag).steps.values():
        changed = _module_changed(step)
        if changed:
            problems.append(
                str(
                    PipelineDefinitionError(
                        changed[0], fix=changed[1], dag_id=dag.dag_id, step=step.name, argument="module"
                    )
                ).strip()
            )
        target = step.compute_target
        try:
            ComputeTargetHook(target).resolve()
        except ComputeTargetError as error:
            problems.append(f'step "{step.name}": {error}')
        for argument, data in step.named_data():
            datastore = getattr(data, "datastore", None)
            if not datastore:
                continue
            try:
                DatastoreHook(datastore).resolve()
            except DatastoreError as error:
                located = PipelineDefinitionError(
                    f'{type(data).__name__} "{data.name}": {error}',
                    fix="",
                    dag_id=dag.dag_id,
                    step=step.name,
                    argument=argument,
                )
                problems.append(str(located).strip())
    return problems


def _module_changed(step: Any) -> tuple[str, str] | None:
    """A published module whose files differ from what was published: (problem, fix), else None."""
    from airflow_ml_provider.modules.publish import folder_digest

    published = getattr(getattr(step, "module_version", None), "digest", None)
    if not published:
        return None
    version = step.module_version
    now = folder_digest(Path(version.source_directory))
    if now == published:
        return None
    return (
        f'the files of module "{version.module_name}" version "{version.version}" in '
        f"{version.source_directory} changed since it was published.",
        "Publish them as a new version (airflow-ml module publish) and run that one, "
        "or put back the published files.",
    )
