"""Published pipelines: endpoints and their numbered versions, in the provider's SQL database.

The same database as the step cache (``[ml_pipelines] cache_url``; SQLite under
AIRFLOW_HOME by default, PostgreSQL in production), in tables of their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from airflow_ml_provider.provider_db import provider_engine

metadata = MetaData()

endpoints = Table(
    "ml_pipeline_endpoint",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("dag_id", String(250), nullable=False),
    Column("default_version", Integer, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

versions = Table(
    "ml_pipeline_endpoint_version",
    metadata,
    Column("endpoint", String(250), ForeignKey("ml_pipeline_endpoint.name"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("dag_id", String(250), nullable=False),
    Column("dag_version", Integer),
    Column("bundle_name", String(250)),
    Column("bundle_version", String(250)),
    Column("pipeline_digest", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("published_at", Float, nullable=False),
)


class EndpointError(ValueError):
    """An endpoint or version that does not exist, or cannot be used as asked."""


@dataclass(frozen=True)
class EndpointVersion:
    """What one published version froze: the DAG version Airflow recorded and the pipeline digest."""

    endpoint: str
    version: int
    dag_id: str
    dag_version: int | None
    bundle_name: str | None
    bundle_version: str | None
    pipeline_digest: str
    description: str
    published_at: float


@dataclass(frozen=True)
class Endpoint:
    name: str
    dag_id: str
    default_version: int
    disabled: bool
    created_at: float


def _version(row: Any) -> EndpointVersion:
    return EndpointVersion(
        row.endpoint,
        row.version,
        row.dag_id,
        row.dag_version,
        row.bundle_name,
        row.bundle_version,
        row.pipeline_digest,
        row.description or "",
        row.published_at,
    )


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row.name, row.dag_id, row.default_version, bool(row.disabled), row.created_at)


class EndpointStore:
    """Endpoints by name; versions numbered 1, 2, ... per endpoint."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = provider_engine(metadata, url)

    def endpoint(self, name: str) -> Endpoint:
        with self.engine.connect() as connection:
            row = connection.execute(select(endpoints).where(endpoints.c.name == name)).first()
        if row is None:
            known = ", ".join(e.name for e in self.endpoints()) or "none yet"
            raise EndpointError(
                f'there is no endpoint "{name}" (endpoints: {known}); publish one with '
                f"airflow-ml publish <dag> --endpoint {name}"
            )
        return _endpoint(row)

    def endpoints(self) -> list[Endpoint]:
        with self.engine.connect() as connection:
            return [
                _endpoint(row) for row in connection.execute(select(endpoints).order_by(endpoints.c.name))
            ]

    def versions(self, name: str) -> list[EndpointVersion]:
        self.endpoint(name)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(versions).where(versions.c.endpoint == name).order_by(versions.c.version)
            )
            return [_version(row) for row in rows]

    def version(self, name: str, number: int | None = None) -> EndpointVersion:
        """A version of the endpoint: ``number``, or its default version."""
        endpoint = self.endpoint(name)
        number = endpoint.default_version if number is None else number
        for found in self.versions(name):
            if found.version == number:
                return found
        numbers = ", ".join(str(v.version) for v in self.versions(name))
        raise EndpointError(f'endpoint "{name}" has no version {number} (versions: {numbers})')

    def publish(
        self,
        name: str,
        *,
        dag_id: str,
        dag_version: int | None,
        bundle_name: str | None,
        bundle_version: str | None,
        pipeline_digest: str,
        description: str = "",
    ) -> tuple[EndpointVersion, bool]:
        """A new version (the default if the endpoint is new); (the version, whether it is new).

        Publishing what the latest version already froze returns that version.
        """
        now = time.time()
        for _ in range(5):  # a concurrent publish took the number: count again
            with self.engine.begin() as connection:
                existing = connection.execute(select(endpoints).where(endpoints.c.name == name)).first()
                if existing is not None and existing.dag_id != dag_id:
                    raise EndpointError(
                        f'endpoint "{name}" publishes pipeline "{existing.dag_id}", not "{dag_id}"; '
                        "choose another endpoint name"
                    )
                latest = connection.execute(
                    select(versions).where(versions.c.endpoint == name).order_by(versions.c.version.desc())
                ).first()
                if latest is not None and (latest.pipeline_digest, latest.dag_version) == (
                    pipeline_digest,
                    dag_version,
                ):
                    return _version(latest), False
                number = (
                    connection.execute(
                        select(func.coalesce(func.max(versions.c.version), 0)).where(
                            versions.c.endpoint == name
                        )
                    ).scalar_one()
                    + 1
                )
                try:
                    if existing is None:
                        connection.execute(
                            insert(endpoints).values(
                                name=name,
                                dag_id=dag_id,
                                default_version=number,
                                disabled=False,
                                created_at=now,
                            )
                        )
                    connection.execute(
                        insert(versions).values(
                            endpoint=name,
                            version=number,
                            dag_id=dag_id,
                            dag_version=dag_version,
                            bundle_name=bundle_name,
                            bundle_version=bundle_version,
                            pipeline_digest=pipeline_digest,
                            description=description,
                            published_at=now,
                        )
                    )
                except IntegrityError:
                    continue
            return self.version(name, number), True
        raise EndpointError(f'endpoint "{name}": could not publish (other publishes kept taking the number)')

    def set_default(self, name: str, number: int) -> EndpointVersion:
        chosen = self.version(name, number)
        with self.engine.begin() as connection:
            connection.execute(
                update(endpoints).where(endpoints.c.name == name).values(default_version=number)
            )
        return chosen

    def set_disabled(self, name: str, disabled: bool) -> Endpoint:
        self.endpoint(name)
        with self.engine.begin() as connection:
            connection.execute(update(endpoints).where(endpoints.c.name == name).values(disabled=disabled))
        return self.endpoint(name)
