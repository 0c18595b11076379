"""The ``local`` kind: the runtime in the worker process, the script as its subprocess."""

from __future__ import annotations

import sys
from collections.abc import Callable

from airflow_ml_provider.runtime import StepResult, StepSpec, run_step


def run_local(spec: StepSpec, *, info: Callable[[str], None], warning: Callable[[str], None]) -> StepResult:
    return run_step(spec, info=info, warning=warning)


def local_python() -> str:
    """The worker's own interpreter runs local scripts."""
    return sys.executable
