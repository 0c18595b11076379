"""The step kinds, registered in one place: a model class's ``kind`` -> how it is run and
fingerprinted. A new kind is its model class, its module here, and one line below."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.steps import Step
from airflow_ml_provider.step_kinds.kind import StepKind
from airflow_ml_provider.step_kinds.script import ScriptKind
from airflow_ml_provider.step_kinds.transfer import TransferKind

_SCRIPT = ScriptKind()

REGISTERED: dict[str, StepKind] = {
    "python_script": _SCRIPT,
    "estimator": _SCRIPT,
    "data_transfer": TransferKind(),
}


def kind_of(step: Step) -> StepKind:
    """How ``step`` is run and fingerprinted."""
    kind = REGISTERED.get(step.kind)
    if kind is None:
        raise PipelineDefinitionError(
            f'step kind "{step.kind}" ({type(step).__name__}) is not registered.',
            fix="Register the kind in airflow_ml_provider.step_kinds.kinds.REGISTERED.",
            step=step.name,
        )
    return kind


def step_pre_image(
    step: Step, params: Mapping[str, Any], input_digest: Callable[[Any], str], stat_cache: StatCache
) -> dict[str, Any]:
    """What the step's fingerprint is a digest of (see ``StepKind.pre_image``)."""
    return kind_of(step).pre_image(step, params, input_digest, stat_cache)
