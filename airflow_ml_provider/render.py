"""Steps as Airflow task groups: one group per step, wired by the data between them.

A step is *placed* in a DAG: the DAG gets its own copy of the step (the DAG's defaults
applied to it), recorded with its tasks in the DAG's ``RenderedPipeline``. The step the
user built is left as it was, so it can be placed in another pipeline too.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterable
from typing import Any

from airflow.sdk import DAG, Param, TaskGroup
from airflow.sdk.definitions._internal.contextmanager import DagContext

from airflow_ml_provider.assets import run_task_arguments
from airflow_ml_provider.bundles import outside_roots
from airflow_ml_provider.endpoints.runcheck import EndpointVersionCheck
from airflow_ml_provider.pipeline.data import PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.datapath import DataPathInput, declared_default
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.pipeline import Pipeline
from airflow_ml_provider.pipeline.placement import (
    Renderer,
    built_outside_any_dag,
    placed_in_a_pipeline,
    register_renderer,
)
from airflow_ml_provider.pipeline.schedule import ScheduleRecurrence
from airflow_ml_provider.pipeline.steps import Step
from airflow_ml_provider.rendered import RenderedPipeline, StepTasks, pipeline_of
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.sensors.reuse import StepReuseSensor
from airflow_ml_provider.step_kinds.kinds import kind_of
from airflow_ml_provider.tracking.step import PipelineRunCloser

# Where each step object was placed: ordering a step after another wires every DAG holding both.
_PLACEMENTS: weakref.WeakKeyDictionary[Step, list[weakref.ref[RenderedPipeline]]] = (
    weakref.WeakKeyDictionary()
)


def current_dag_id() -> str | None:
    dag = DagContext.get_current()
    return dag.dag_id if dag is not None else None


def attach_to_current_dag(step: Step) -> None:
    """Place ``step`` in the DAG being defined, if any."""
    dag = DagContext.get_current()
    if dag is None:
        built_outside_any_dag(step)
        return
    place(step, dag)


def place(step: Step, dag: DAG, *, default_datastore: str | None = None) -> Step:
    """Render ``step`` into ``dag``, wired to the producers and consumers of its data there.

    ``default_datastore``: where this pipeline's PipelineData without a datastore live.
    Returns the DAG's copy of the step.
    """
    placed_in_a_pipeline(step)
    _check_code_is_in_bounds(step, dag)
    placed = _copy_for(step, dag, default_datastore)
    for parameter in placed.parameters.values():
        declare_parameter(dag, parameter, placed.name)
    for data in placed.inputs:
        if isinstance(data, DataPathInput) and data.parameter is not None:
            parameter = data.parameter
            declare_parameter(
                dag, PipelineParameter(parameter.name, declared_default(parameter.default_value)), placed.name
            )
    graph = pipeline_of(dag)
    new_edges = graph.add(placed)
    graph.origins[placed.name] = step
    _PLACEMENTS.setdefault(step, []).append(weakref.ref(graph))
    _close_tracking_with_the_dag_run(dag, placed)
    _render(placed, dag, graph)
    for producer, consumer in new_edges:
        before, after = graph.tasks[producer], graph.tasks[consumer]
        before.group >> after.group
        # The data an edge carries labels it in Airflow's graph view.
        carried = set(graph.steps[producer].output_names) & set(graph.steps[consumer].input_names)
        dag.set_edge_info(before.run, after.reuse, {"label": ", ".join(sorted(carried))})
    return placed


def place_all(
    steps: Iterable[Step],
    dag: DAG,
    *,
    default_datastore: str | None = None,
    orderings: Iterable[tuple[Step, Step]] = (),
) -> RenderedPipeline:
    """Place a pipeline's steps in ``dag``, then the orderings between them: those recorded on
    the steps (``run_after``, ``>>``) and the pipeline's own (``orderings``, a StepSequence's)."""
    steps = list(steps)
    for step in steps:
        place(step, dag, default_datastore=default_datastore)
    graph = pipeline_of(dag)
    recorded = [(before, step) for step in steps for before in step.run_after_steps]
    for before, after in [*recorded, *orderings]:
        if graph.placed(before) is not None and graph.placed(after) is not None:
            _wire_order(graph, before.name, after.name)
    return graph


def pipeline_to_dag(
    pipeline: Pipeline, dag_id: str | None, dag: DAG | None, dag_arguments: dict[str, Any]
) -> DAG:
    """``pipeline.to_dag()``: a new DAG (registered for the DAG processor like a ``with DAG(...)``
    block) or, given ``dag``, the pipeline's steps added to that one."""
    if dag is None:
        if not dag_id:
            raise PipelineDefinitionError(
                "the pipeline has no dag_id.",
                fix='Name its DAG: pipeline.to_dag("my_pipeline", schedule=None).',
                argument="dag_id",
            )
        dag_arguments.setdefault("schedule", None)
        recurrence = dag_arguments["schedule"]
        if isinstance(recurrence, ScheduleRecurrence):
            dag_arguments["schedule"] = recurrence.to_schedule()
            dag_arguments.setdefault("start_date", recurrence.start_date())
        if pipeline.description and "description" not in dag_arguments:
            dag_arguments["description"] = pipeline.description
        if pipeline.azureml_compat:
            dag_arguments["default_args"] = {
                "azureml_compat": True,
                **(dag_arguments.get("default_args") or {}),
            }
        dag = DAG(dag_id, **dag_arguments)
    with dag:
        place_all(
            pipeline.steps, dag, default_datastore=pipeline.default_datastore, orderings=pipeline.orderings
        )
    return dag


def _check_code_is_in_bounds(step: Step, dag: DAG) -> None:
    """A step's code comes from the DAG folder (or a folder allowed by configuration)."""
    if step.source_directory is None:
        return
    roots = outside_roots(step.source_directory, step.base_directory)
    if roots is not None:
        raise PipelineDefinitionError(
            f"source_directory {step.source_directory} is outside the DAG folder "
            f"({', '.join(str(root) for root in roots)}): its files would be read and their digests "
            "stored in the step cache.",
            fix="Put the step's code under the DAG folder, or allow its folder in "
            "[ml_pipelines] allowed_source_roots (AIRFLOW__ML_PIPELINES__ALLOWED_SOURCE_ROOTS).",
            dag_id=dag.dag_id,
            step=step.name,
            argument="source_directory",
        )


def _copy_for(step: Step, dag: DAG, default_datastore: str | None) -> Step:
    """The DAG's copy of a step: ``tracking``, ``experiment_name`` and ``azureml_compat`` left
    out come from the DAG's default_args, PipelineData without a datastore go to the
    pipeline's default one."""
    placed = copy.copy(step)
    defaults = dag.default_args or {}
    if placed.tracking is None:
        placed.tracking = defaults.get("tracking", "required")
    if placed.experiment_name is None:
        placed.experiment_name = defaults.get("experiment_name", dag.dag_id)
    if placed.azureml_compat is None:
        placed.azureml_compat = bool(defaults.get("azureml_compat", False))
    if default_datastore:
        placed.inputs = [_on_datastore(data, default_datastore) for data in step.inputs]
        placed.outputs = [_on_datastore(data, default_datastore) for data in step.outputs]
    return placed


def _on_datastore(data: Any, datastore: str) -> Any:
    if isinstance(data, PipelineData) and data.datastore is None:
        return data._derive(datastore=datastore)
    return data


def _close_tracking_with_the_dag_run(dag: DAG, step: Step) -> None:
    """DAG callbacks that write the reused steps' MLflow runs and end the DAG run's MLflow parent
    run with the run's outcome."""
    if step.tracking == "off":
        return
    experiment = step.experiment_name
    for attribute, succeeded in (("on_success_callback", True), ("on_failure_callback", False)):
        existing = getattr(dag, attribute)
        callbacks = list(existing) if isinstance(existing, list) else [existing] if existing else []
        if not any(isinstance(callback, PipelineRunCloser) for callback in callbacks):
            closer = PipelineRunCloser(experiment, succeeded, pipeline_of(dag), run_parameters)
            setattr(dag, attribute, [*callbacks, closer])
    dag.has_on_success_callback = True
    dag.has_on_failure_callback = True


def order_steps(before: Step, after: Step) -> None:
    """``before >> after`` for steps: wired in every DAG where both are placed."""
    pipelines = [graph for graph in _pipelines_holding(after) if graph.placed(before) is not None]
    if not pipelines and _pipelines_holding(before) and _pipelines_holding(after):
        raise PipelineDefinitionError(
            f'cannot order "{before.name}" before "{after.name}": they are in different pipelines.',
            fix="Order steps of the same pipeline (the same `with DAG(...)` block or Pipeline(steps=...)).",
            step=after.name,
        )
    for graph in pipelines:
        _wire_order(graph, before.name, after.name)


def _pipelines_holding(step: Step) -> list[RenderedPipeline]:
    found = (ref() for ref in _PLACEMENTS.get(step, []))
    return [graph for graph in found if graph is not None and graph.origins.get(step.name) is step]


def _wire_order(graph: RenderedPipeline, before: str, after: str) -> None:
    if (before, after) in graph.edges:
        return
    graph.add_order(before, after)
    graph.tasks[before].group >> graph.tasks[after].group


def declare_parameter(dag: DAG, parameter: PipelineParameter, step: str) -> None:
    """Declare the DAG Param for a PipelineParameter, or check the DAG's own one agrees."""
    params = dag.params
    if parameter.name not in params:
        if parameter.default_value is None:
            raise PipelineDefinitionError(
                f'PipelineParameter "{parameter.name}" has no default_value and the DAG has no '
                "Param of that name.",
                fix=f'Give PipelineParameter("{parameter.name}", default_value=...) or declare '
                f'params={{"{parameter.name}": Param(...)}} on the DAG.',
                dag_id=dag.dag_id,
                step=step,
                argument=parameter.name,
            )
        params[parameter.name] = Param(parameter.default_value, type=json_type(parameter.default_value))
        return
    declared = params.get_param(parameter.name)
    declared_types = _declared_types(declared)
    if parameter.default_value is None or not declared_types:
        return
    if json_type(parameter.default_value) not in declared_types and not (
        json_type(parameter.default_value) == "integer" and "number" in declared_types
    ):
        raise PipelineDefinitionError(
            f'PipelineParameter "{parameter.name}" has a default of type '
            f"{json_type(parameter.default_value)} ({parameter.default_value!r}), but the DAG "
            f'declares Param "{parameter.name}" of type {" or ".join(sorted(declared_types))}.',
            fix="Make the two agree, or drop default_value and let the DAG Param decide.",
            dag_id=dag.dag_id,
            step=step,
            argument=parameter.name,
        )


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "string"


def _declared_types(param: Param) -> set[str]:
    declared = param.schema.get("type")
    if declared is None and param.value is not None and not _is_unset(param.value):
        return {json_type(param.value)}
    if isinstance(declared, str):
        return {declared}
    return set(declared or [])


def _is_unset(value: Any) -> bool:
    return type(value).__name__ == "ArgNotSet"


def _render(step: Step, dag: DAG, graph: RenderedPipeline) -> None:
    """Every step kind: ``<step>.reuse`` (the caching sensor), then its own ``<step>.run``."""
    kind = kind_of(step)
    with TaskGroup(group_id=step.name, dag=dag, tooltip=f"{step.kind} step {step.name}") as group:
        reuse = StepReuseSensor(
            task_id="reuse",
            step=step,
            pipeline=graph,
            pre_image=kind.pre_image,
            dag=dag,
            trigger_rule="none_failed",
            doc_md=f"Reuses the outputs of step **{step.name}** when nothing it depends on changed.",
            pre_execute=EndpointVersionCheck(),
        )
        run = kind.run_task(
            step, dag, graph, **run_task_arguments(list(step.outputs), dag.dag_id, dag.default_args or {})
        )
        reuse >> run
    graph.tasks[step.name] = StepTasks(group, reuse.task_id, run.task_id)


register_renderer(
    Renderer(
        attach=attach_to_current_dag, order=order_steps, current_dag_id=current_dag_id, to_dag=pipeline_to_dag
    )
)
