"""Compute target kinds behind one call: run a step spec, get its result."""

from __future__ import annotations

from collections.abc import Callable

from airflow_ml_provider.compute.local import run_local
from airflow_ml_provider.hooks.compute import ComputeTarget, ComputeTargetError
from airflow_ml_provider.runtime import StepResult, StepSpec


def run_on_target(
    target: ComputeTarget,
    spec: StepSpec,
    *,
    info: Callable[[str], None],
    warning: Callable[[str], None],
) -> StepResult:
    if target.kind == "local":
        return run_local(spec, info=info, warning=warning)
    raise ComputeTargetError(
        f'compute target "{target.name}": kind "{target.kind}" cannot run steps in this '
        'version of the provider; use a "local" target.'
    )
