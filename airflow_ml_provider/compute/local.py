"""The ``local`` kind: the runtime in the worker process, the script as its subprocess."""

from __future__ import annotations

import sys
from collections.abc import Callable

from airflow_ml_provider.runtime import StepResult, StepSpec, run_step
from airflow_ml_provider.runtime.process import Stopper


def run_local(
    spec: StepSpec,
    *,
    info: Callable[[str], None],
    warning: Callable[[str], None],
    stopper: Stopper | None = None,
) -> StepResult:
    return run_step(spec, info=info, warning=warning, stopper=stopper)


def local_python() -> str:
    """The worker's own interpreter runs local scripts."""
    return sys.executable
