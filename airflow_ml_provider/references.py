"""Output references in XCom: which task of a step published them in a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.exceptions import AirflowException

from airflow_ml_provider.rendered import RenderedPipeline


class StepInputError(AirflowException):
    """An input whose reference could not be found at run time."""


def producer_task_ids(pipeline: RenderedPipeline, step: str) -> Sequence[str]:
    """Tasks that may publish a step's outputs in a run: its reuse sensor, then its run task."""
    tasks = pipeline.task_ids(step)
    return [task_id for task_id in (tasks.get("reuse"), tasks.get("run")) if task_id]


def produced_reference(pipeline: RenderedPipeline, consumer: str, data_name: str, ti: Any) -> dict[str, Any]:
    """The reference ``{uri, digest, size, files, produced_by}`` of an input, in this run."""
    producer_name = pipeline.producer_of(data_name)
    if producer_name is None:
        raise StepInputError(
            f'step "{consumer}": no step produces input "{data_name}". '
            "Add it to the outputs= of the step that writes it."
        )
    for task_id in producer_task_ids(pipeline, producer_name):
        published = ti.xcom_pull(task_ids=task_id)
        if isinstance(published, dict) and data_name in published:
            return dict(published[data_name])
    raise StepInputError(
        f'step "{consumer}": step "{producer_name}" published no reference for input '
        f'"{data_name}" in this run; it must succeed (or be reused) first.'
    )
