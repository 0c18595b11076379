"""Azure ML v1's ``Workspace``: here, the Airflow deployment the DAG file runs in.

It needs no subscription or config file; what it lists (datastores, compute targets) is
looked up by name, as Airflow connections, when a step uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from airflow_ml_provider.datastore import Datastore
from airflow_ml_provider.v1.compute import ComputeTarget

T = TypeVar("T")


class _ByName(Generic[T]):
    """``workspace.datastores["name"]``: the object of that name (resolved when used)."""

    def __init__(self, make: Callable[[str], T]) -> None:
        self._make = make

    def __getitem__(self, name: str) -> T:
        return self._make(name)

    def get(self, name: str, default: Any = None) -> T:
        return self._make(name)


class Workspace:
    """The deployment: ``Workspace.from_config()`` and ``Workspace(...)`` need nothing else."""

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: Any = None,
        **ignored_options: Any,
    ) -> None:
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.name = workspace_name or "airflow"
        self.datastores: _ByName[Datastore] = _ByName(lambda name: Datastore(self, name))
        self.compute_targets: _ByName[ComputeTarget] = _ByName(lambda name: ComputeTarget(self, name))

    @classmethod
    def from_config(cls, path: str | None = None, auth: Any = None, **ignored_options: Any) -> Workspace:
        return cls()

    @classmethod
    def get(cls, name: str, auth: Any = None, **ignored_options: Any) -> Workspace:
        return cls(workspace_name=name)

    def get_default_datastore(self) -> Datastore:
        return Datastore(self, "default")

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r})"
