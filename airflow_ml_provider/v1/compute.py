"""Azure ML v1's compute targets: here a compute target is an Airflow connection of type
``mlcompute<kind>`` (or ``"local"``), named in the DAG file and defined by the deployment."""

from __future__ import annotations

from typing import Any

from airflow_ml_provider.pipeline.compat import ignored


class ComputeTargetException(Exception):
    """Azure ML v1's error for a missing compute target; never raised while a DAG file is parsed
    (connections are not read then); an undefined target fails its step's run with a clear error."""


class ComputeTarget:
    """A compute target by name: ``ComputeTarget(workspace, "cpu-cluster")``."""

    def __init__(self, workspace: Any = None, name: str | None = None) -> None:
        self.workspace = workspace
        self.name = name or "local"

    @classmethod
    def create(cls, workspace: Any, name: str, provisioning_configuration: Any) -> ComputeTarget:
        ignored(
            "ComputeTarget.create",
            "provisioning_configuration",
            f'compute is not provisioned from a DAG file: define an Airflow connection "{name}" of type '
            "mlcomputelocal, mlcomputevenv, mlcomputedocker or mlcomputekubernetes (with its options).",
        )
        return cls(workspace, name)

    @staticmethod
    def provisioning_configuration(**options: Any) -> dict[str, Any]:
        return dict(options)

    def wait_for_completion(self, show_output: bool = False, **ignored_options: Any) -> None:
        """Nothing to wait for: the connection names a target that exists or fails the step."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class AmlCompute(ComputeTarget):
    """Azure ML's managed cluster: a named compute target here (``kubernetes`` or ``docker``)."""


class DataFactoryCompute(ComputeTarget):
    """The compute of a v1 ``DataTransferStep``: here the copy runs on the Airflow worker."""
