"""Publishing a module version: its definition (a ``module.yaml`` or a script and options),
the digest of its folder, and where every Airflow component finds that folder.

A ``module.yaml``::

    name: AddNumbers
    version: "2"                  # optional: the next number
    description: Adds the sum of an earlier step
    script: calculate.py
    source_directory: .           # relative to this file; default: its folder
    default: true                 # make it the module's default version
    inputs:  [{name: in1, optional: true}]
    outputs: [out_sum]            # or {name:, directory: false, datastore:}
    parameters:
      arg1: {default: 3, type: integer, description: The first number}
    arguments: [--arg1, {parameter: arg1}, --in1, {input: in1}, --output_sum, {output: out_sum}]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from airflow_ml_provider.caching.content import ignore_spec
from airflow_ml_provider.modules.store import (
    InputPort,
    ModuleInterface,
    ModuleParameter,
    ModuleRegistry,
    ModuleRegistryError,
    OutputPort,
    PublishedVersion,
)
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name
from airflow_ml_provider.runtime.digest import path_digest

_MODULE_KEYS = {
    "name",
    "version",
    "description",
    "script",
    "source_directory",
    "default",
    "inputs",
    "outputs",
    "parameters",
    "arguments",
}
_ARGUMENT_KINDS = ("input", "output", "parameter")


@dataclass(frozen=True)
class ModuleDefinition:
    """A version to publish, read from a module.yaml or given on the command line."""

    name: str
    script: str
    source_directory: Path
    interface: ModuleInterface
    description: str = ""
    version: str | None = None
    make_default: bool = False


def folder_digest(folder: Path) -> str:
    """The digest of a module's files (``.amlignore`` / ``.gitignore`` apply, as for step code)."""
    return path_digest(folder, ignore=ignore_spec(folder)).digest


def dags_folder() -> Path:
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder")).expanduser().resolve()


def stored_location(folder: Path) -> str:
    """The folder as the registry keeps it: relative to the DAGs folder when inside it."""
    folder = folder.resolve()
    base = dags_folder()
    return folder.relative_to(base).as_posix() if folder.is_relative_to(base) else str(folder)


def local_folder(version: PublishedVersion) -> Path:
    """The version's folder on this machine (its DAGs folder joined to a relative location)."""
    location = Path(version.source_directory)
    return location if location.is_absolute() else dags_folder() / location


def _fail(path: Path, problem: str, fix: str) -> ModuleRegistryError:
    return ModuleRegistryError(f"{path}: {problem} {fix}")


def _name(value: Any, what: str, path: Path) -> str:
    try:
        return check_name(value, what=what, step=None, argument="name")
    except PipelineDefinitionError as error:
        raise ModuleRegistryError(f"{path}: {error.problem} {error.fix}") from None


def _ports(raw: Any, path: Path, key: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(path, f"{key} must be a list.", f"Write {key}: [name, ...].")
    ports = []
    for value in raw:
        port = {"name": value} if isinstance(value, str) else value
        if not isinstance(port, dict) or not isinstance(port.get("name"), str):
            raise _fail(path, f"{key} holds {value!r}, not a port.", "Write a name, or {name: ..., ...}.")
        _name(port["name"], f"{key[:-1]} port name", path)
        ports.append(port)
    return ports


def interface_of(
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    parameters: dict[str, Any],
    arguments: list[Any],
    path: Path,
) -> ModuleInterface:
    """The interface, checked: known port fields, unique names, arguments naming them."""
    try:
        interface = ModuleInterface(
            inputs=[InputPort(**port) for port in inputs],
            outputs=[OutputPort(**port) for port in outputs],
            parameters=[
                ModuleParameter(name, **(value if isinstance(value, dict) else {"default": value}))
                for name, value in parameters.items()
            ],
            arguments=list(arguments),
        )
    except TypeError as error:
        raise _fail(
            path, f"a port or parameter has an unknown field ({error}).", "See docs/modules.md."
        ) from None
    names: dict[str, set[str]] = {
        "input": {p.name for p in interface.inputs},
        "output": {p.name for p in interface.outputs},
        "parameter": {p.name for p in interface.parameters},
    }
    every = [p.name for p in interface.inputs + interface.outputs] + [p.name for p in interface.parameters]
    if len(every) != len(set(every)):
        raise _fail(path, "two ports or parameters have the same name.", "Give each its own name.")
    for parameter in interface.parameters:
        _name(parameter.name, "parameter name", path)
    for value in interface.arguments:
        if isinstance(value, str | int | float | bool):
            continue
        kind = next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None
        if kind not in _ARGUMENT_KINDS or value[kind] not in names[kind]:
            raise _fail(
                path,
                f"argument {value!r} names no port or parameter of the module.",
                "Use text, {input: port}, {output: port} or {parameter: name} with declared names.",
            )
    return interface


def read_definition(path: Path) -> ModuleDefinition:
    """A module.yaml's version definition."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise _fail(path, f"cannot read the module definition ({error}).", "Check the file.") from None
    if not isinstance(document, dict):
        raise _fail(path, "the file holds no mapping.", "Start with name:, script:, inputs:, outputs:.")
    unknown = sorted(set(document) - _MODULE_KEYS)
    if unknown:
        raise _fail(
            path, f"unknown keys {', '.join(unknown)}.", f"Use only: {', '.join(sorted(_MODULE_KEYS))}."
        )
    name, script = document.get("name"), document.get("script")
    if not isinstance(name, str) or not isinstance(script, str):
        raise _fail(path, "name and script are required.", "Give the module's name and its script.")
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise _fail(path, "parameters must be a mapping.", "Write parameters: {name: {default: ...}}.")
    arguments = document.get("arguments") or []
    if not isinstance(arguments, list):
        raise _fail(path, "arguments must be a list.", "Write arguments: [--flag, {input: port}, ...].")
    version = document.get("version")
    return ModuleDefinition(
        name=name,
        script=script,
        source_directory=(path.parent / str(document.get("source_directory") or ".")).resolve(),
        interface=interface_of(
            _ports(document.get("inputs"), path, "inputs"),
            _ports(document.get("outputs"), path, "outputs"),
            parameters,
            arguments,
            path,
        ),
        description=str(document.get("description") or ""),
        version=None if version is None else str(version),
        make_default=bool(document.get("default", False)),
    )


def publish(
    definition: ModuleDefinition, registry: ModuleRegistry | None = None
) -> tuple[PublishedVersion, bool]:
    """Record the version in the registry; (the version, whether it is new)."""
    _name(definition.name, "module name", definition.source_directory)
    folder = definition.source_directory
    script = (folder / definition.script).resolve()
    if not folder.is_dir() or not script.is_file() or not script.is_relative_to(folder.resolve()):
        raise ModuleRegistryError(
            f'module "{definition.name}": script {definition.script!r} is not a file in {folder}. '
            "Put the script in source_directory, or fix the name or the folder."
        )
    return (registry or ModuleRegistry()).publish(
        definition.name,
        script=script.relative_to(folder.resolve()).as_posix(),
        source_directory=stored_location(folder),
        digest=folder_digest(folder.resolve()),
        interface=definition.interface,
        description=definition.description,
        version=definition.version,
        make_default=definition.make_default,
    )
