"""What happened to each step of a DAG run: read from Airflow's metadata database."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select

from airflow_ml_provider.handoff import MODEL_VERSION_KEY, OUTPUTS_KEY
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.step_states import step_status


@dataclass
class StepSummary:
    """One step of one run: ``status`` as ``step_states.step_status`` says it (ran, reused, ...)."""

    name: str
    status: str
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    experiment_name: str | None = None
    registered_model: str | None = None
    model_version: str | None = None


def step_summaries(graph: RenderedPipeline, dag_id: str, run_id: str) -> list[StepSummary]:
    """Each step's status and output references for one DAG run, in definition order."""
    with create_session() as session:
        states = {
            ti.task_id: (str(ti.state) if ti.state is not None else None)
            for ti in session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            )
        }
        xcoms = {
            (row.task_id, row.key): XComModel.deserialize_value(row)
            for row in session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag_id,
                    XComModel.run_id == run_id,
                    XComModel.key.in_([OUTPUTS_KEY, MODEL_VERSION_KEY]),
                )
            )
        }
    published = {task: value for (task, key), value in xcoms.items() if key == OUTPUTS_KEY}
    summaries = []
    for step in graph.steps.values():
        task_ids = graph.task_ids(step.name)
        step_states = {role: states.get(task_id) for role, task_id in task_ids.items()}
        outputs: dict[str, dict[str, Any]] = {}
        for task_id in task_ids.values():
            value = published.get(task_id)
            if isinstance(value, dict):
                outputs.update(value)
        # A run task registers the version; a reuse sensor reports the one its hit registered.
        versions = [xcoms.get((task_id, MODEL_VERSION_KEY)) for task_id in task_ids.values()]
        version = next((found for found in versions if found is not None), None)
        summaries.append(
            StepSummary(
                step.name,
                step_status(step_states.get("reuse"), step_states.get("run")),
                outputs,
                experiment_name=step.experiment_name,
                registered_model=getattr(step, "register_model", None),
                model_version=None if version is None else str(version),
            )
        )
    return summaries


class RunRequestError(ValueError):
    """A run asked for with a pipeline or parameters that do not exist or do not fit."""


def load_pipeline(dag_id: str, *, dag_file: str | None = None) -> Any:
    """The DAG of a pipeline, parsed from the DAGs folder (or only ``dag_file``)."""
    from airflow.exceptions import AirflowException
    from airflow.utils.cli import get_bagged_dag

    try:
        return get_bagged_dag(None, dag_id, dagfile_path=dag_file)
    except AirflowException:
        raise RunRequestError(
            f'pipeline "{dag_id}" was not found: no DAG has that id, or its DAG file failed to parse. '
            "Run `airflow-ml validate <dags folder>` to see why."
        ) from None


def check_parameters(dag: Any, values: dict[str, Any]) -> None:
    """Refuse parameters the pipeline does not declare, and values its Params reject."""
    from airflow.sdk.definitions.param import ParamValidationError

    known = sorted(dag.params)
    unknown = sorted(set(values) - set(known))
    if unknown:
        names = ", ".join(f'"{name}"' for name in unknown)
        raise RunRequestError(
            f'pipeline "{dag.dag_id}" has no parameter {names}; its parameters are: '
            f"{', '.join(known) or '(none)'}. Run conf keys such as regenerate_outputs go in --conf."
        )
    for name, value in values.items():
        param = copy.deepcopy(dag.params.get_param(name))
        try:
            param.resolve(value)
        except ParamValidationError as error:
            reason = str(error).strip().splitlines()[0]
            raise RunRequestError(f'pipeline "{dag.dag_id}", parameter "{name}": {reason}') from None


def run_pipeline(
    dag_id: str, conf: dict[str, Any] | None = None, *, dag_file: str | None = None, dag: Any = None
) -> tuple[Any, list[StepSummary]]:
    """Run a pipeline once in this process (``dag.test()``) and summarise its steps.

    ``dag_file`` parses only that file instead of the whole DAGs folder; ``dag`` is an
    already parsed pipeline.
    """
    from airflow_ml_provider.rendered import pipeline_of

    dag = dag if dag is not None else load_pipeline(dag_id, dag_file=dag_file)
    dag_run = dag.test(run_conf=conf or None)
    return dag_run, step_summaries(pipeline_of(dag), dag_id, dag_run.run_id)
