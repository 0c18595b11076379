"""The ``local`` kind: the runtime in the worker process, the script as its subprocess."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from airflow_ml_provider.caching.parts import installed_packages_digest
from airflow_ml_provider.compute.kind import ComputeKind, Log
from airflow_ml_provider.compute_kinds import LOCAL
from airflow_ml_provider.hooks.compute import ComputeTarget
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.runtime import StepResult, StepSpec, run_step
from airflow_ml_provider.runtime.process import Stopper


class LocalKind(ComputeKind):
    declaration = LOCAL

    def environment_identity(self, target: ComputeTarget, environment: Environment | None) -> dict[str, Any]:
        # The script imports the worker's own libraries: an upgraded one is another environment.
        return {"packages": installed_packages_digest()}

    def run(
        self,
        target: ComputeTarget,
        spec: StepSpec,
        environment: Environment,
        base_directory: Path,
        *,
        info: Log,
        warning: Log,
        stopper: Stopper | None = None,
    ) -> StepResult:
        return run_step(spec, info=info, warning=warning, stopper=stopper)


def local_python() -> str:
    """The worker's own interpreter runs local scripts."""
    return sys.executable
