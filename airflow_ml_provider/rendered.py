"""What the steps of one DAG became: the renderer's record, never kept on the steps.

A step object may be in two pipelines (two DAGs). Each DAG gets its own copy of the step
(with the DAG's defaults applied) and its own task ids; this module holds that mapping,
and the tasks and operators of the DAG read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from airflow_ml_provider.pipeline.graph import PipelineGraph
from airflow_ml_provider.pipeline.steps import Step


@dataclass(frozen=True)
class StepTasks:
    """The task group of a step in one DAG and the ids of its two tasks."""

    group: Any
    reuse: str
    run: str

    def by_role(self) -> dict[str, str]:
        return {"reuse": self.reuse, "run": self.run}


@dataclass
class RenderedPipeline(PipelineGraph):
    """A pipeline graph as placed in one DAG.

    ``steps`` holds the DAG's copies of the steps, ``origins`` the step objects the user
    built (by step name), ``tasks`` the tasks each step became.
    """

    tasks: dict[str, StepTasks] = field(default_factory=dict)
    origins: dict[str, Step] = field(default_factory=dict)

    def task_ids(self, step_name: str) -> dict[str, str]:
        """``{"reuse": ..., "run": ...}`` of a step of this DAG ({} if it has no tasks here)."""
        tasks = self.tasks.get(step_name)
        return tasks.by_role() if tasks else {}

    def placed(self, step: Step) -> Step | None:
        """This DAG's copy of ``step``, if the step was placed here."""
        return self.steps.get(step.name) if self.origins.get(step.name) is step else None


_PIPELINE_ATTRIBUTE = "_ml_pipeline"


def pipeline_of(dag: Any) -> RenderedPipeline:
    """The pipeline kept on a DAG (created on first use)."""
    graph = getattr(dag, _PIPELINE_ATTRIBUTE, None)
    if graph is None:
        graph = RenderedPipeline(dag_id=dag.dag_id)
        setattr(dag, _PIPELINE_ATTRIBUTE, graph)
    return cast(RenderedPipeline, graph)
