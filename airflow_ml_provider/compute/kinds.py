"""The compute kinds, registered in one place: a declared kind's name -> its implementation.

Each implementation is imported when a target of its kind is used (the Docker and Kubernetes
clients are not loaded by a worker that only runs local steps).
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_ml_provider.compute.kind import ComputeKind
from airflow_ml_provider.compute_kinds import DOCKER, KUBERNETES, LOCAL, VENV
from airflow_ml_provider.hooks.compute import ComputeTarget, ComputeTargetError


def _local() -> ComputeKind:
    from airflow_ml_provider.compute.local import LocalKind

    return LocalKind()


def _venv() -> ComputeKind:
    from airflow_ml_provider.compute.venv import VenvKind

    return VenvKind()


def _docker() -> ComputeKind:
    from airflow_ml_provider.compute.docker import DockerKind

    return DockerKind()


def _kubernetes() -> ComputeKind:
    from airflow_ml_provider.compute.kubernetes import KubernetesKind

    return KubernetesKind()


REGISTERED: dict[str, Callable[[], ComputeKind]] = {
    LOCAL.name: _local,
    VENV.name: _venv,
    DOCKER.name: _docker,
    KUBERNETES.name: _kubernetes,
}


def kind_of(target: ComputeTarget) -> ComputeKind:
    """The implementation of ``target``'s kind."""
    load = REGISTERED.get(target.kind)
    if load is None:
        raise ComputeTargetError(f'compute target "{target.name}": unknown kind "{target.kind}".')
    return load()
