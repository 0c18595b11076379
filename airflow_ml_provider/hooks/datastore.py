"""Datastores: named by Airflow connections whose extra holds a base URI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_ml_provider.settings import provider_home

DEFAULT_DATASTORE = "default"


class DatastoreError(ValueError):
    """A datastore name that resolves to nothing usable."""


@dataclass(frozen=True)
class ResolvedDatastore:
    """A datastore as the runtime needs it: a base URI and fsspec storage options."""

    name: str
    base_uri: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def uri(self, path: str) -> str:
        path = path.strip("/")
        return f"{self.base_uri.rstrip('/')}/{path}" if path else self.base_uri.rstrip("/")

    @property
    def is_local(self) -> bool:
        return self.base_uri.startswith("file://")


def default_datastore_uri() -> str:
    return (provider_home() / "datastores" / DEFAULT_DATASTORE).as_uri()


class DatastoreHook(BaseHook):
    """Resolves a datastore name to its base URI and storage options.

    The connection id is the datastore's name. ``"default"`` needs no connection: it is
    a folder under ``AIRFLOW_HOME`` unless a connection of that name says otherwise.
    """

    conn_name_attr = "datastore_name"
    default_conn_name = DEFAULT_DATASTORE
    conn_type = "ml_datastore"
    hook_name = "ML Datastore"

    def __init__(self, datastore_name: str = DEFAULT_DATASTORE) -> None:
        super().__init__()
        self.datastore_name = datastore_name

    def resolve(self) -> ResolvedDatastore:
        name = self.datastore_name
        try:
            connection = self.get_connection(name)
        except AirflowNotFoundException:
            if name == DEFAULT_DATASTORE:
                return ResolvedDatastore(name, default_datastore_uri())
            raise DatastoreError(
                f'datastore "{name}" is not defined: there is no Airflow connection "{name}". '
                f"Create one of type {self.conn_type} whose extra holds "
                '{"base_uri": "file:///data/raw"} (or s3://bucket/prefix, ...).'
            ) from None
        if connection.conn_type != self.conn_type:
            raise DatastoreError(
                f'datastore "{name}": connection "{name}" is of type {connection.conn_type!r}, '
                f"not {self.conn_type!r}. Give the datastore its own connection."
            )
        extra = connection_fields(connection.extra_dejson, self.conn_type)
        base_uri = extra.get("base_uri") or connection.host
        if not base_uri:
            raise DatastoreError(
                f'datastore "{name}": connection "{name}" has no base_uri in its extra. '
                'Set it, for example {"base_uri": "s3://bucket/prefix"}.'
            )
        return ResolvedDatastore(name, _normalise(base_uri), _storage_options(extra))


def _normalise(base_uri: str) -> str:
    if "://" not in base_uri:
        from pathlib import Path

        return Path(base_uri).expanduser().resolve().as_uri()
    return base_uri


def _storage_options(extra: dict[str, Any]) -> dict[str, Any]:
    options = extra.get("storage_options") or {}
    if isinstance(options, str):
        options = json.loads(options)
    if extra.get("endpoint_url"):
        options.setdefault("client_kwargs", {})["endpoint_url"] = extra["endpoint_url"]
    return dict(options)


def connection_fields(extra: dict[str, Any], conn_type: str) -> dict[str, Any]:
    """A connection's form fields, whether stored plainly or as ``extra__<type>__<field>``."""
    prefix = f"extra__{conn_type}__"
    fields = {key: value for key, value in extra.items() if not key.startswith(prefix)}
    for key, value in extra.items():
        if key.startswith(prefix) and value not in (None, ""):
            fields.setdefault(key[len(prefix) :], value)
    return fields
