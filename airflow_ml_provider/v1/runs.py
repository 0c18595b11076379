"""Azure ML v1's ``PipelineRun``, ``StepRun`` and ``PortDataReference`` over a pipeline run.

A run is read from Airflow's metadata database (the step summaries ``airflow-ml run``
prints); an output is downloaded from its datastore through the datastore's connection.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from airflow_ml_provider.runtime.staging import local_path

# Azure ML v1's status words for what an Airflow task state or a step summary says.
_STATUS = {
    "ran": "Finished",
    "reused": "Finished",
    "success": "Finished",
    "failed": "Failed",
    "upstream_failed": "NotStarted",
    "skipped": "NotStarted",
    "running": "Running",
    "queued": "Queued",
    "not started": "NotStarted",
}


@dataclass
class PortDataReference:
    """One output of a step run: where it is, and ``download(local_path)``."""

    name: str
    reference: dict[str, Any]
    datastore_name: str = "default"

    @property
    def path_on_datastore(self) -> str:
        return str(self.reference["uri"])

    def download(self, local_path: str | Path, overwrite: bool = False, show_progress: bool = True) -> str:
        """Copy the output into ``local_path/<name>``; returns that path."""
        from airflow_ml_provider.hooks.datastore import DatastoreHook

        target = Path(local_path) / self.name
        if target.exists():
            if not overwrite:
                raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        uri = str(self.reference["uri"])
        options = {} if local_path_of(uri) else DatastoreHook(self.datastore_name).resolve().storage_options
        fs, path = url_to_fs(uri, **options)
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(target) + "/", recursive=True)
        else:
            fs.get_file(path, str(target))
        if show_progress:
            print(f"downloaded output {self.name} ({self.reference.get('files')} file(s)) to {target}")
        return str(target)


def local_path_of(uri: str) -> Path | None:
    return local_path(uri)


@dataclass
class StepRun:
    """One step of a pipeline run."""

    name: str
    status: str
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    datastores: dict[str, str] = field(default_factory=dict)

    @property
    def reused(self) -> bool:
        return self.status == "reused"

    def get_status(self) -> str:
        return _STATUS.get(self.status, self.status)

    def get_outputs(self) -> dict[str, PortDataReference]:
        return {name: self.get_output_data(name) for name in self.outputs}

    def get_output_data(self, name: str) -> PortDataReference:
        if name not in self.outputs:
            raise KeyError(
                f'step "{self.name}" has no output "{name}" in this run '
                f"(it has: {', '.join(sorted(self.outputs)) or 'none'})"
            )
        return PortDataReference(name, self.outputs[name], self.datastores.get(name, "default"))

    def __repr__(self) -> str:
        return f"StepRun(name={self.name!r}, status={self.get_status()!r}, reused={self.reused})"


class PipelineRun:
    """A run of a pipeline (a DAG run): its status, its steps and their outputs."""

    def __init__(
        self, dag_id: str, run_id: str, state: str, steps: list[StepRun], experiment: Any = None
    ) -> None:
        self.dag_id = dag_id
        self.id = run_id
        self.state = state
        self.steps = steps
        self.experiment = experiment

    def get_status(self) -> str:
        return _STATUS.get(self.state, self.state)

    def get_steps(self) -> list[StepRun]:
        return list(self.steps)

    def find_step_run(self, name: str) -> list[StepRun]:
        """The runs of the step of that name (a list, as Azure ML v1 returns)."""
        return [step for step in self.steps if step.name == name]

    def wait_for_completion(
        self, show_output: bool = True, timeout_seconds: int = 0, raise_on_error: bool = True
    ) -> str:
        """The run's final status; with ``show_output``, a table of its steps."""
        if show_output:
            print(f"pipeline run {self.id} of {self.dag_id}: {self.get_status()}")
            for step in self.steps:
                print(f"  {step.name:<32} {step.get_status():<11} {'reused' if step.reused else ''}")
        if raise_on_error and self.get_status() == "Failed":
            failed = [step.name for step in self.steps if step.get_status() == "Failed"]
            raise RuntimeError(f"pipeline run {self.id} failed (steps: {', '.join(failed) or 'none'})")
        return self.get_status()

    def __repr__(self) -> str:
        return f"PipelineRun(dag_id={self.dag_id!r}, id={self.id!r}, status={self.get_status()!r})"


def run_in_process(
    dag_id: str, parameters: dict[str, Any], options: dict[str, Any], experiment: Any = None
) -> PipelineRun:
    """Run the pipeline's DAG (from the DAGs folder) now, in this process, as ``airflow-ml run``
    does; ``parameters`` must be the DAG's, ``options`` go to the run's conf beside them."""
    from airflow_ml_provider.dag_runs import check_parameters, load_pipeline, run_pipeline
    from airflow_ml_provider.rendered import pipeline_of

    dag = load_pipeline(dag_id)
    check_parameters(dag, parameters)
    dag_run, summaries = run_pipeline(dag_id, {**options, **parameters}, dag=dag)
    graph = pipeline_of(dag)
    steps = []
    for summary in summaries:
        placed = graph.steps[summary.name]
        datastores = {data.name: data.datastore or "default" for data in placed.outputs}
        steps.append(StepRun(summary.name, summary.status, dict(summary.outputs), datastores))
    return PipelineRun(dag_id, str(dag_run.run_id), str(dag_run.state), steps, experiment)
