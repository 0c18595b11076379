"""Azure ML v1's ``Experiment``: ``Experiment(ws, name).submit(pipeline, ...)`` starts a pipeline run."""

from __future__ import annotations

from typing import Any

from airflow_ml_provider.run_options import CONTINUE_ON_STEP_FAILURE, REGENERATE_OUTPUTS
from airflow_ml_provider.v1.runs import PipelineRun, run_in_process


def dag_id_of(pipeline: Any) -> str:
    """The DAG id of a Pipeline (made with ``dag_id=`` or ``to_dag``), a DAG, or a DAG id."""
    if isinstance(pipeline, str):
        return pipeline
    dag = getattr(pipeline, "dag", None)
    if dag is not None:
        return str(dag.dag_id)
    if hasattr(pipeline, "dag_id"):
        return str(pipeline.dag_id)
    raise ValueError(
        "this pipeline has no DAG: give it a dag_id (Pipeline(..., dag_id=...)) in a DAG file of the "
        "DAGs folder, and submit that pipeline (or its dag id)."
    )


class Experiment:
    """An experiment by name (the runs' MLflow experiment is the pipeline's own)."""

    def __init__(self, workspace: Any, name: str, **ignored_options: Any) -> None:
        self.workspace = workspace
        self.name = name

    def submit(
        self,
        config: Any,
        tags: dict[str, str] | None = None,
        *,
        pipeline_parameters: dict[str, Any] | None = None,
        regenerate_outputs: bool = False,
        continue_on_step_failure: bool = False,
        **ignored_options: Any,
    ) -> PipelineRun:
        """Run the pipeline now, in this process, as ``airflow-ml run`` does, from the code in the
        DAGs folder, and return the finished run. Parameters the pipeline does not declare, and
        values its Params refuse, are refused before anything runs."""
        options = {
            REGENERATE_OUTPUTS: bool(regenerate_outputs),
            CONTINUE_ON_STEP_FAILURE: bool(continue_on_step_failure),
        }
        return run_in_process(dag_id_of(config), dict(pipeline_parameters or {}), options, experiment=self)

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r})"
