"""What a step's tasks handed over in this run, read from XCom: output references, the fingerprint claim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.exceptions import AirflowException

from airflow_ml_provider.handoff import FINGERPRINT_KEY, OUTPUTS_KEY, FingerprintClaim, OutputReference
from airflow_ml_provider.rendered import RenderedPipeline


class StepInputError(AirflowException):
    """An input whose reference could not be found at run time."""


def producer_task_ids(pipeline: RenderedPipeline, step: str) -> Sequence[str]:
    """Tasks that may publish a step's outputs in a run: its reuse sensor, then its run task."""
    tasks = pipeline.task_ids(step)
    return [task_id for task_id in (tasks.get("reuse"), tasks.get("run")) if task_id]


def produced_reference(pipeline: RenderedPipeline, consumer: str, data_name: str, ti: Any) -> OutputReference:
    """The reference of an input, as its producer published it in this run."""
    producer_name = pipeline.producer_of(data_name)
    if producer_name is None:
        raise StepInputError(
            f'step "{consumer}": no step produces input "{data_name}". '
            "Add it to the outputs= of the step that writes it."
        )
    for task_id in producer_task_ids(pipeline, producer_name):
        published = ti.xcom_pull(task_ids=task_id, key=OUTPUTS_KEY)
        if isinstance(published, dict) and data_name in published:
            return OutputReference.from_json(published[data_name])
    raise StepInputError(
        f'step "{consumer}": step "{producer_name}" published no reference for input '
        f'"{data_name}" in this run; it must succeed (or be reused) first.'
    )


def fingerprint_claim(pipeline: RenderedPipeline, step: Any, ti: Any) -> FingerprintClaim | None:
    """The fingerprint this run's reuse sensor claimed for ``step`` (None: not cacheable)."""
    reuse_task = pipeline.task_ids(step.name).get("reuse")
    if reuse_task is None:
        return None
    return FingerprintClaim.from_json(ti.xcom_pull(task_ids=reuse_task, key=FINGERPRINT_KEY))
