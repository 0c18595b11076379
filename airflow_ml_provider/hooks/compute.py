"""Compute targets: named by Airflow connections; ``local`` is built in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_ml_provider.hooks.datastore import connection_fields

LOCAL = "local"
KINDS = ("local", "venv", "docker", "kubernetes")
# Options the connection form stores as text that mean JSON values.
JSON_OPTIONS = ("node_selector", "tolerations", "volumes", "volume_mounts")


class ComputeTargetError(ValueError):
    """A compute target name that resolves to nothing usable."""


@dataclass(frozen=True)
class ComputeTarget:
    """Where a step runs: a kind, an optional Airflow queue, and the kind's options."""

    name: str
    kind: str
    queue: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


class ComputeTargetHook(BaseHook):
    """Resolves a compute target name; the connection id is the target's name."""

    conn_name_attr = "compute_target"
    default_conn_name = LOCAL
    conn_type = "ml_compute"
    hook_name = "ML Compute Target"

    def __init__(self, compute_target: str = LOCAL) -> None:
        super().__init__()
        self.compute_target = compute_target

    def resolve(self) -> ComputeTarget:
        name = self.compute_target
        if name == LOCAL:
            return ComputeTarget(LOCAL, LOCAL)
        try:
            connection = self.get_connection(name)
        except AirflowNotFoundException:
            raise ComputeTargetError(
                f'compute target "{name}" is not defined: there is no Airflow connection '
                f'"{name}". Create one of type {self.conn_type} (kind: {", ".join(KINDS)}), '
                'or use compute_target="local".'
            ) from None
        if connection.conn_type != self.conn_type:
            raise ComputeTargetError(
                f'compute target "{name}": connection "{name}" is of type '
                f"{connection.conn_type!r}, not {self.conn_type!r}."
            )
        extra = connection_fields(connection.extra_dejson, self.conn_type)
        kind = extra.pop("kind", LOCAL)
        if kind not in KINDS:
            raise ComputeTargetError(
                f'compute target "{name}": kind {kind!r} is not one of {", ".join(KINDS)}.'
            )
        if connection.host:
            extra.setdefault("host", connection.host)
        return ComputeTarget(name, kind, extra.pop("queue", None) or None, _typed_options(name, extra))


def _typed_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Form fields arrive as text: JSON fields are parsed, ``in_cluster`` becomes a boolean.

    ``cpu`` (the Kubernetes spelling) is taken as ``cpus``, the one name every kind reads.
    """
    typed = dict(options)
    if "cpu" in typed:
        typed.setdefault("cpus", typed.pop("cpu"))
    for key in JSON_OPTIONS:
        value = typed.get(key)
        if isinstance(value, str):
            try:
                typed[key] = json.loads(value) if value.strip() else None
            except json.JSONDecodeError as error:
                raise ComputeTargetError(
                    f'compute target "{name}": field "{key}" is not valid JSON ({error.msg} at '
                    f"character {error.pos}): {value!r}. Write it as JSON, as in the field's description."
                ) from None
    if isinstance(typed.get("in_cluster"), str):
        typed["in_cluster"] = typed["in_cluster"].strip().lower() in ("true", "1", "yes")
    return typed
