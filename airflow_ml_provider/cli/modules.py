"""``airflow-ml module publish|list|show|set-default|deprecate|disable|enable``: the module registry."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from airflow_ml_provider.cli.app import console, module_app
from airflow_ml_provider.modules.store import ModuleRegistry, ModuleRegistryError


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[red]error[/red] {error}", soft_wrap=True)
    return typer.Exit(code=1)


def _ports(values: list[str]) -> list[dict[str, object]]:
    return [{"name": value} for value in values]


@module_app.command("publish")
def module_publish(
    path: Annotated[Path, typer.Argument(help="A module.yaml, or the module's script")],
    name: Annotated[str | None, typer.Option(help="The module's name (a script only)")] = None,
    version: Annotated[str | None, typer.Option(help="The version; default: the next number")] = None,
    description: Annotated[str | None, typer.Option(help="What this version does")] = None,
    input_port: Annotated[list[str], typer.Option("--input", help="An input port (a script only)")] = [],  # noqa: B006
    output_port: Annotated[list[str], typer.Option("--output", help="An output port (a script only)")] = [],  # noqa: B006
    parameter: Annotated[list[str], typer.Option(help="A parameter, name=default (a script only)")] = [],  # noqa: B006
    default: Annotated[bool, typer.Option("--default", help="Make it the module's default version")] = False,
) -> None:
    """Publish a version of a module: its script's folder (recorded by digest) and its ports."""
    from dataclasses import replace

    from airflow_ml_provider.modules.publish import ModuleDefinition, interface_of, publish, read_definition

    try:
        if path.suffix in (".yaml", ".yml"):
            definition = read_definition(path)
        else:
            if not name:
                raise ModuleRegistryError(
                    f"{path}: give the module's name with --name (or publish a module.yaml)."
                )
            parameters = {}
            for value in parameter:
                key, sep, text = value.partition("=")
                if not sep:
                    raise ModuleRegistryError(f"--parameter {value!r}: write name=default.")
                parameters[key.strip()] = {"default": text.strip()}
            definition = ModuleDefinition(
                name=name,
                script=path.name,
                source_directory=path.resolve().parent,
                interface=interface_of(_ports(input_port), _ports(output_port), parameters, [], path),
            )
        definition = replace(
            definition,
            version=version or definition.version,
            description=description if description is not None else definition.description,
            make_default=default or definition.make_default,
        )
        found, new = publish(definition)
    except ModuleRegistryError as error:
        raise _fail(error) from None
    what = "published" if new else "unchanged since it was published as"
    console.print(
        f"module [bold]{found.module}[/bold] {what} version {found.version}"
        f"{' (default)' if found.is_default else ''}: {found.script} in {found.source_directory}, "
        f"digest {found.digest.removeprefix('blake3:')[:16]}",
        soft_wrap=True,
    )


@module_app.command("list")
def module_list() -> None:
    """Every published module, its default version and its ports."""
    table = Table(title="modules")
    for column in ("module", "default version", "versions", "inputs", "outputs", "parameters"):
        table.add_column(column)
    registry = ModuleRegistry()
    for name in registry.names():
        versions = registry.versions(name)
        default = next(v for v in versions if v.is_default)
        table.add_row(
            name,
            default.version,
            ", ".join(v.version for v in versions),
            ", ".join(p.name for p in default.interface.inputs),
            ", ".join(p.name for p in default.interface.outputs),
            ", ".join(p.name for p in default.interface.parameters),
        )
    console.print(table)


@module_app.command("show")
def module_show(name: Annotated[str, typer.Argument(help="The module")]) -> None:
    """The versions of a module: script, folder, digest, state, ports."""
    registry = ModuleRegistry()
    try:
        registry.version(name)
    except ModuleRegistryError as error:
        raise _fail(error) from None
    table = Table(title=f"module {name}")
    for column in ("version", "state", "published", "script", "folder", "digest", "ports", "description"):
        table.add_column(column)
    for found in registry.versions(name):
        ports = [f"in {p.name}{'?' if p.optional else ''}" for p in found.interface.inputs]
        ports += [f"out {p.name}" for p in found.interface.outputs]
        ports += [f"param {p.name}={p.default}" for p in found.interface.parameters]
        table.add_row(
            found.version + (" (default)" if found.is_default else ""),
            found.status,
            datetime.fromtimestamp(found.published_at).isoformat(" ", "seconds"),
            found.script,
            found.source_directory,
            found.digest.removeprefix("blake3:")[:16],
            ", ".join(ports),
            found.description,
        )
    console.print(table)


def _change(name: str, version: str, status: str | None) -> None:
    registry = ModuleRegistry()
    try:
        found = registry.set_status(name, version, status) if status else registry.set_default(name, version)
    except ModuleRegistryError as error:
        raise _fail(error) from None
    what = f"is {status.lower()}" if status else "is the default"
    console.print(f"module [bold]{found.module}[/bold] version {found.version} {what}")


@module_app.command("set-default")
def module_set_default(name: str, version: str) -> None:
    """Make a version the one a step runs when it names none."""
    _change(name, version, None)


@module_app.command("deprecate")
def module_deprecate(name: str, version: str) -> None:
    """Steps running this version still run, with a warning."""
    _change(name, version, "Deprecated")


@module_app.command("disable")
def module_disable(name: str, version: str) -> None:
    """Pipelines naming this version are refused when parsed."""
    _change(name, version, "Disabled")


@module_app.command("enable")
def module_enable(name: str, version: str) -> None:
    """Make a deprecated or disabled version active again."""
    _change(name, version, "Active")
