"""Compute targets: named by Airflow connections, one connection type per kind; ``local`` is built in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_ml_provider.compute_kinds import (
    DOCKER,
    KIND_OF_CONN_TYPE,
    KINDS,
    KUBERNETES,
    VENV,
    KindDeclaration,
)
from airflow_ml_provider.compute_kinds import LOCAL as LOCAL_KIND
from airflow_ml_provider.connection_types import OLD_COMPUTE_TYPE
from airflow_ml_provider.hooks.connections import get_connection, warn_deprecated_type
from airflow_ml_provider.hooks.datastore import connection_fields

LOCAL = LOCAL_KIND.name


class ComputeTargetError(ValueError):
    """A compute target name that resolves to nothing usable."""


@dataclass(frozen=True)
class ComputeTarget:
    """Where a step runs: a kind, an optional Airflow queue, and the kind's options."""

    name: str
    kind: str
    queue: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _types_hint() -> str:
    return ", ".join(kind.conn_type for kind in KINDS.values())


class ComputeTargetHook(BaseHook):
    """Resolves a compute target name, whatever its kind; the connection id is the target's name."""

    conn_name_attr = "compute_target"
    default_conn_name = LOCAL
    conn_type = LOCAL_KIND.conn_type
    hook_name = LOCAL_KIND.title

    def __init__(self, compute_target: str = LOCAL) -> None:
        super().__init__()
        self.compute_target = compute_target

    def resolve(self) -> ComputeTarget:
        name = self.compute_target
        if name == LOCAL:
            return ComputeTarget(LOCAL, LOCAL)
        try:
            connection = get_connection(name)
        except AirflowNotFoundException:
            raise ComputeTargetError(
                f'compute target "{name}" is not defined: there is no Airflow connection "{name}". '
                f'Create one of type {_types_hint()}, or use compute_target="local".'
            ) from None
        extra = connection_fields(connection.extra_dejson, connection.conn_type)
        kind = _kind_of(name, connection.conn_type, extra)
        if connection.host:
            extra.setdefault("host", connection.host)
        return ComputeTarget(
            name, kind.name, extra.pop("queue", None) or None, _typed_options(name, kind, extra)
        )


def _kind_of(name: str, conn_type: str, extra: dict[str, Any]) -> KindDeclaration:
    if conn_type in KIND_OF_CONN_TYPE:
        extra.pop("kind", None)
        return KIND_OF_CONN_TYPE[conn_type]
    if conn_type != OLD_COMPUTE_TYPE:
        raise ComputeTargetError(
            f'compute target "{name}": connection "{name}" is of type {conn_type!r}, not one of '
            f"{_types_hint()}."
        )
    kind_name = extra.pop("kind", LOCAL)
    if kind_name not in KINDS:
        raise ComputeTargetError(
            f'compute target "{name}": kind {kind_name!r} is not one of {", ".join(KINDS)}.'
        )
    warn_deprecated_type(name, conn_type, KINDS[kind_name].conn_type)
    return KINDS[kind_name]


def _typed_options(name: str, kind: KindDeclaration, options: dict[str, Any]) -> dict[str, Any]:
    """Form fields arrive as text: JSON options are parsed, boolean ones become booleans.

    ``cpu`` (the Kubernetes spelling) is taken as ``cpus``, the one name every kind reads.
    """
    typed = dict(options)
    if "cpu" in typed:
        typed.setdefault("cpus", typed.pop("cpu"))
    for key, value in options.items():
        option = kind.option(key)
        if option is None or not isinstance(value, str):
            continue
        if option.type == "json":
            try:
                typed[key] = json.loads(value) if value.strip() else None
            except json.JSONDecodeError as error:
                raise ComputeTargetError(
                    f'compute target "{name}": field "{key}" is not valid JSON ({error.msg} at '
                    f"character {error.pos}): {value!r}. Write it as JSON, as in the field's description."
                ) from None
        elif option.type == "boolean":
            typed[key] = value.strip().lower() in ("true", "1", "yes")
    return typed


# One registered hook per kind (ComputeTargetHook stands for local), so that each kind's
# connection form shows only its own options.
class VenvComputeHook(ComputeTargetHook):
    conn_type = VENV.conn_type
    hook_name = VENV.title


class DockerComputeHook(ComputeTargetHook):
    conn_type = DOCKER.conn_type
    hook_name = DOCKER.title


class KubernetesComputeHook(ComputeTargetHook):
    conn_type = KUBERNETES.conn_type
    hook_name = KUBERNETES.title
