"""Datastores: named by Airflow connections whose extra holds a base URI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_ml_provider.connection_types import DATASTORE_TYPE, OLD_DATASTORE_TYPE
from airflow_ml_provider.hooks.connections import get_connection, warn_deprecated_type
from airflow_ml_provider.settings import provider_home

DEFAULT_DATASTORE = "default"
S3_PROTOCOLS = ("s3", "s3a")
WEB_PROTOCOLS = ("http", "https")


class DatastoreError(ValueError):
    """A datastore name that resolves to nothing usable."""


@dataclass(frozen=True)
class ResolvedDatastore:
    """A datastore as the runtime needs it: a base URI and fsspec storage options."""

    name: str
    base_uri: str
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)

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
    conn_type = DATASTORE_TYPE
    hook_name = "ML Datastore"

    def __init__(self, datastore_name: str = DEFAULT_DATASTORE) -> None:
        super().__init__()
        self.datastore_name = datastore_name

    def resolve(self) -> ResolvedDatastore:
        name = self.datastore_name
        if _protocol(name) in WEB_PROTOCOLS:
            # A dataset read straight from a web server (Azure ML v1's from_files("https://...")).
            return ResolvedDatastore(name, name.rstrip("/"))
        try:
            connection = get_connection(name)
        except AirflowNotFoundException:
            if name == DEFAULT_DATASTORE:
                return ResolvedDatastore(name, default_datastore_uri())
            raise DatastoreError(
                f'datastore "{name}" is not defined: there is no Airflow connection "{name}". '
                f"Create one of type {self.conn_type} whose Base URI (host) is file:///data/raw, "
                "s3://bucket/prefix, ..."
            ) from None
        if connection.conn_type == OLD_DATASTORE_TYPE:
            warn_deprecated_type(name, OLD_DATASTORE_TYPE, self.conn_type)
        elif connection.conn_type != self.conn_type:
            raise DatastoreError(
                f'datastore "{name}": connection "{name}" is of type {connection.conn_type!r}, '
                f"not {self.conn_type!r}. Give the datastore its own connection."
            )
        extra = connection_fields(connection.extra_dejson, connection.conn_type)
        base_uri = extra.get("base_uri") or connection.host
        if not base_uri:
            raise DatastoreError(
                f'datastore "{name}": connection "{name}" has no Base URI. Set its Base URI (host), '
                'for example s3://bucket/prefix, or {"base_uri": "s3://bucket/prefix"} in its extra.'
            )
        options = _storage_options(extra)
        if _protocol(base_uri) in S3_PROTOCOLS:
            # Key, secret, endpoint and botocore settings are s3fs options: other stores
            # (http, gcs, abfs, ...) take only the storage_options the connection gives.
            derived = self._credentials(connection, extra)
            client_kwargs = {**derived.get("client_kwargs", {}), **options.get("client_kwargs", {})}
            options = {**derived, **options}
            if client_kwargs:
                options["client_kwargs"] = client_kwargs
        return ResolvedDatastore(name, _normalise(base_uri), options)

    def _credentials(self, connection: Any, extra: dict[str, Any]) -> dict[str, Any]:
        """Key and secret from this connection, or from the Airflow AWS connection it names.

        The AWS connection is read as a plain connection (login = access key id,
        password = secret key, extra: region_name, endpoint_url, aws_session_token), so the
        amazon provider need not be installed. Secrets never reach a log line.
        """
        login, password, source_extra = connection.login, connection.password, extra
        aws_conn_id = extra.get("aws_conn_id")
        if aws_conn_id:
            try:
                aws = get_connection(str(aws_conn_id))
            except AirflowNotFoundException:
                raise DatastoreError(
                    f'datastore "{self.datastore_name}": its aws_conn_id "{aws_conn_id}" names no '
                    "Airflow connection."
                ) from None
            login, password = aws.login or login, aws.password or password
            source_extra = {**aws.extra_dejson, **extra}
        options: dict[str, Any] = {}
        if login:
            options["key"] = login
        if password:
            options["secret"] = password
        token = source_extra.get("aws_session_token") or source_extra.get("token")
        if token:
            options["token"] = token
        client_kwargs: dict[str, Any] = {}
        endpoint = source_extra.get("endpoint_url") or source_extra.get("host")
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        region = source_extra.get("region_name") or source_extra.get("region")
        if region:
            client_kwargs["region_name"] = region
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        # Few retries inside botocore: ours (with backoff, and a message) come on top.
        options["config_kwargs"] = {"retries": {"max_attempts": 2, "mode": "standard"}, "connect_timeout": 10}
        return options


def _protocol(base_uri: str) -> str:
    return base_uri.split("://", 1)[0].lower() if "://" in base_uri else "file"


def _normalise(base_uri: str) -> str:
    if "://" not in base_uri:
        from pathlib import Path

        return Path(base_uri).expanduser().resolve().as_uri()
    return base_uri


def _storage_options(extra: dict[str, Any]) -> dict[str, Any]:
    options = extra.get("storage_options") or {}
    if isinstance(options, str):
        options = json.loads(options)
    return dict(options)


def connection_fields(extra: dict[str, Any], conn_type: str) -> dict[str, Any]:
    """A connection's form fields that were set, stored plainly or as ``extra__<type>__<field>``.

    Forms save the fields left untouched as null or empty: those count as not set.
    """
    prefix = f"extra__{conn_type}__"
    fields = {
        key: value for key, value in extra.items() if not key.startswith(prefix) and value not in (None, "")
    }
    for key, value in extra.items():
        if key.startswith(prefix) and value not in (None, ""):
            fields.setdefault(key[len(prefix) :], value)
    return fields
