"""Compute target kinds behind one call: run a step spec, get its result.

Each kind lives in its own module; the runtime (``airflow_ml_provider.runtime``) runs next
to the script on every one of them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from airflow.exceptions import AirflowException

from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.compute.local import run_local
from airflow_ml_provider.hooks.compute import ComputeTarget, ComputeTargetError
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.runtime import StepResult, StepSpec
from airflow_ml_provider.runtime.process import Stopper

__all__ = ["ComputeError", "run_on_target", "target_image_digest", "target_python_version"]


def run_on_target(
    target: ComputeTarget,
    spec: StepSpec,
    *,
    info: Callable[[str], None],
    warning: Callable[[str], None],
    environment: Environment | None = None,
    base_directory: Path | None = None,
    stopper: Stopper | None = None,
) -> StepResult:
    """Run one step attempt on ``target``; ``environment`` is the step's, relative to ``base_directory``.

    ``stopper`` stops it from another thread (the run task's ``on_kill``): the script's process
    group, its container or its pod.
    """
    environment = environment or Environment()
    if target.kind == "local":
        return run_local(spec, info=info, warning=warning, stopper=stopper)
    if target.kind == "venv":
        from airflow_ml_provider.compute.venv import run_in_venv

        requirements = environment.requirements_path(base_directory or Path(spec.source_directory))
        return run_in_venv(
            target, spec, requirements, environment.python, info=info, warning=warning, stopper=stopper
        )
    if target.kind == "docker":
        from airflow_ml_provider.compute.docker import run_in_container

        return run_in_container(target, spec, environment.image, info=info, warning=warning, stopper=stopper)
    if target.kind == "kubernetes":
        from airflow_ml_provider.compute.kubernetes import run_in_pod

        return run_in_pod(target, spec, environment.image, info=info, warning=warning, stopper=stopper)
    raise ComputeTargetError(f'compute target "{target.name}": unknown kind "{target.kind}".')


def target_python_version(target: ComputeTarget, environment: Environment | None) -> str | None:
    """The version of the interpreter a step names with ``Environment(python=...)``, where its
    target honours it (``venv``: the virtualenv is made from it), for its fingerprint.

    None where the worker's own interpreter runs the step (its version is recorded anyway) or an
    image decides. A named interpreter this worker lacks is fingerprinted by its name.
    """
    python = environment.python if environment else None
    if target.kind != "venv" or not python:
        return None
    from airflow_ml_provider.compute.venv import base_interpreter, interpreter_version

    try:
        return interpreter_version(base_interpreter(python))
    except (ComputeError, OSError, subprocess.CalledProcessError):
        return f"{python} (not on this worker)"


def target_image_digest(target: ComputeTarget, environment: Environment | None) -> str | None:
    """What the step's image is, for its fingerprint: the digest the tag points at now (docker).

    Kubernetes images cannot be resolved from the worker: the name (tag) stands in for them.
    """
    image = environment.image if environment else None
    if target.kind == "kubernetes":
        return str(image or target.options.get("image") or "") or None
    if target.kind != "docker":
        return None
    from airflow_ml_provider.compute.docker import image_digest

    try:
        return image_digest(target, image)
    except AirflowException as error:
        raise ComputeTargetError(f'compute target "{target.name}": {error}') from None
