"""The module registry: modules and their published versions, in the provider's SQL database.

The same database as the step cache and the endpoints (``[ml_pipelines] cache_url``; SQLite
under AIRFLOW_HOME by default, PostgreSQL in production), so the DAG processor, the workers
and the API server (the designer's palette) read the same modules. Versions are written only
by an explicit publish (``airflow-ml module publish``, or ``Module.publish_python_script``
outside DAG parsing), never while a DAG file is parsed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from airflow_ml_provider.modules.remembered import forget_module_versions
from airflow_ml_provider.provider_db import provider_engine

metadata = MetaData()

modules = Table(
    "ml_module",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("default_version", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)

module_versions = Table(
    "ml_module_version",
    metadata,
    Column("module", String(250), ForeignKey("ml_module.name"), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("script", String(1000), nullable=False),
    # Relative to the DAGs folder when inside it (each component joins its own), else absolute.
    Column("source_directory", String(4000), nullable=False),
    Column("digest", String(128), nullable=False),
    # The ports and parameters, and the command line template, as JSON.
    Column("interface", Text, nullable=False),
    Column("status", String(16), nullable=False, default="Active"),
    Column("published_at", Float, nullable=False),
)

STATUSES = ("Active", "Deprecated", "Disabled")


class ModuleRegistryError(ValueError):
    """A module or version that does not exist, or cannot be published or used as asked."""


@dataclass(frozen=True)
class InputPort:
    name: str
    optional: bool = False
    description: str = ""


@dataclass(frozen=True)
class OutputPort:
    name: str
    directory: bool = True
    datastore: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ModuleParameter:
    name: str
    default: Any = None
    type: str | None = None
    description: str = ""


@dataclass(frozen=True)
class ModuleInterface:
    """What a version offers a pipeline: ports, parameters, and how its script is called.

    ``arguments`` is the command line: text, ``{input: port}``, ``{output: port}`` or
    ``{parameter: name}``; empty means ``--<name> <value>`` for every port and parameter.
    """

    inputs: list[InputPort] = field(default_factory=list)
    outputs: list[OutputPort] = field(default_factory=list)
    parameters: list[ModuleParameter] = field(default_factory=list)
    arguments: list[Any] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModuleInterface:
        raw = json.loads(text)
        return cls(
            inputs=[InputPort(**port) for port in raw.get("inputs", [])],
            outputs=[OutputPort(**port) for port in raw.get("outputs", [])],
            parameters=[ModuleParameter(**parameter) for parameter in raw.get("parameters", [])],
            arguments=list(raw.get("arguments", [])),
        )

    def command_line(self) -> list[Any]:
        """The arguments template, or the conventional one when none was published."""
        if self.arguments:
            return list(self.arguments)
        template: list[Any] = []
        for port in self.inputs:
            template += [f"--{port.name}", {"input": port.name}]
        for out in self.outputs:
            template += [f"--{out.name}", {"output": out.name}]
        for parameter in self.parameters:
            template += [f"--{parameter.name}", {"parameter": parameter.name}]
        return template


@dataclass(frozen=True)
class PublishedVersion:
    """One published version of a module."""

    module: str
    version: str
    description: str
    script: str
    source_directory: str
    digest: str
    interface: ModuleInterface
    status: str
    published_at: float
    is_default: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "interface": self.interface.to_json()}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PublishedVersion:
        return cls(**{**value, "interface": ModuleInterface.from_json(value["interface"])})

    def view(self) -> dict[str, Any]:
        """What the designer's palette shows and drops onto the canvas."""
        return {
            "module": self.module,
            "version": self.version,
            "default": self.is_default,
            "description": self.description,
            "status": self.status,
            "script": self.script,
            "digest": self.digest,
            **asdict(self.interface),
        }


def _version(row: Any, default_version: str | None) -> PublishedVersion:
    return PublishedVersion(
        row.module,
        row.version,
        row.description or "",
        row.script,
        row.source_directory,
        row.digest,
        ModuleInterface.from_json(row.interface),
        row.status,
        row.published_at,
        row.version == default_version,
    )


def _sort_key(version: str) -> tuple[int, int | str]:
    return (0, int(version)) if version.isdigit() else (1, version)


class ModuleRegistry:
    """Modules by name; each version keeps its script's folder digest and its interface."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = provider_engine(metadata, url)

    def names(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.scalars(select(modules.c.name).order_by(modules.c.name)))

    def versions(self, name: str) -> list[PublishedVersion]:
        """Every version of ``name``, oldest first (an unknown module has none)."""
        with self.engine.connect() as connection:
            default = connection.scalar(select(modules.c.default_version).where(modules.c.name == name))
            rows = connection.execute(select(module_versions).where(module_versions.c.module == name))
            found = [_version(row, default) for row in rows]
        return sorted(found, key=lambda v: _sort_key(v.version))

    def latest(self) -> list[PublishedVersion]:
        """Each module's default version (what the palette offers first), by module name."""
        return [v for name in self.names() for v in self.versions(name) if v.is_default]

    def version(self, name: str, version: str | None = None) -> PublishedVersion:
        """``version`` of module ``name``, else its default version."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none yet"
            raise ModuleRegistryError(
                f'module "{name}" is not published (published modules: {known}). '
                f"Publish it with: airflow-ml module publish <module.yaml>, or fix the name."
            )
        wanted = str(version) if version is not None else next(v.version for v in versions if v.is_default)
        for found in versions:
            if found.version == wanted:
                return found
        numbers = ", ".join(v.version for v in versions)
        default = next(v.version for v in versions if v.is_default)
        raise ModuleRegistryError(
            f'module "{name}" has no version "{wanted}" (versions: {numbers}; default {default}). '
            "Publish that version, ask for one of those, or leave the version out for the default."
        )

    def publish(
        self,
        name: str,
        *,
        script: str,
        source_directory: str,
        digest: str,
        interface: ModuleInterface,
        description: str = "",
        version: str | None = None,
        make_default: bool = False,
    ) -> tuple[PublishedVersion, bool]:
        """Record a version (numbered after the last when ``version`` is None); (it, whether new).

        Publishing the same files and interface again under the same version changes nothing;
        other files under a version that exists are refused (a version never changes).
        """
        now = time.time()
        unchanged: str | None = None
        for _ in range(5):  # a concurrent publish took the number: count again
            with self.engine.begin() as connection:
                existing = connection.execute(select(modules).where(modules.c.name == name)).first()
                rows = list(
                    connection.execute(select(module_versions).where(module_versions.c.module == name))
                )
                numbers = [row.version for row in rows]
                if version is None:
                    same = [
                        row
                        for row in rows
                        if (row.digest, row.script, row.interface) == (digest, script, interface.to_json())
                    ]
                    if same:
                        return self.version(name, same[-1].version), False
                    digits = [int(n) for n in numbers if n.isdigit()]
                    number = str(max(digits, default=0) + 1)
                else:
                    number = str(version)
                    found = next((row for row in rows if row.version == number), None)
                    if found is not None:
                        if (found.digest, found.script, found.interface) == (
                            digest,
                            script,
                            interface.to_json(),
                        ):
                            if make_default:
                                self._set_default(connection, name, number)
                            unchanged = number
                            break
                        raise ModuleRegistryError(
                            f'module "{name}" already has a version "{number}", published from other '
                            f"files or with other ports (digest {found.digest[:12]}, now {digest[:12]}). "
                            "A published version never changes: publish these files as a new version."
                        )
                try:
                    if existing is None:
                        connection.execute(
                            insert(modules).values(
                                name=name, description=description, default_version=number, created_at=now
                            )
                        )
                    elif make_default:
                        self._set_default(connection, name, number)
                    connection.execute(
                        insert(module_versions).values(
                            module=name,
                            version=number,
                            description=description,
                            script=script,
                            source_directory=source_directory,
                            digest=digest,
                            interface=interface.to_json(),
                            status="Active",
                            published_at=now,
                        )
                    )
                except IntegrityError:
                    continue
            forget_module_versions()
            return self.version(name, number), True
        if unchanged is not None:
            forget_module_versions()  # a new default, perhaps
            return self.version(name, unchanged), False
        raise ModuleRegistryError(
            f'module "{name}": could not publish (other publishes kept taking the number)'
        )

    @staticmethod
    def _set_default(connection: Any, name: str, number: str) -> None:
        connection.execute(update(modules).where(modules.c.name == name).values(default_version=number))

    def set_default(self, name: str, version: str) -> PublishedVersion:
        self.version(name, version)
        with self.engine.begin() as connection:
            self._set_default(connection, name, str(version))
        forget_module_versions()
        return self.version(name, version)

    def set_status(self, name: str, version: str, status: str) -> PublishedVersion:
        """Deprecate, disable or enable a version (Azure ML's ModuleVersion states)."""
        if status not in STATUSES:
            raise ModuleRegistryError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        self.version(name, version)
        with self.engine.begin() as connection:
            connection.execute(
                update(module_versions)
                .where(module_versions.c.module == name, module_versions.c.version == str(version))
                .values(status=status)
            )
        forget_module_versions()
        return self.version(name, version)
