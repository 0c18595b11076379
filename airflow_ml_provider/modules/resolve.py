"""A module step of a pipeline spec: the published version it runs, its ports wired to data,
its parameters filled in, checked as parse time checks every step."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow_ml_provider.modules.publish import local_folder
from airflow_ml_provider.modules.remembered import remember_version, remembered_version
from airflow_ml_provider.modules.store import ModuleRegistry, ModuleRegistryError, PublishedVersion
from airflow_ml_provider.pipeline.compat import AzureMLCompatibilityWarning
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.modules import InputPortDef, ModuleVersion, OutputPortDef


def published(
    name: str, version: str | None, *, dag_id: str, step: str, registry: ModuleRegistry | None = None
) -> PublishedVersion:
    """The version a step asks for; unknown, or disabled, is an error naming DAG, step, argument."""
    found = remembered_version(name, version) if registry is None else None
    try:
        if found is None:
            found = (registry or ModuleRegistry()).version(name, version)
            if registry is None:
                remember_version(name, version, found)
    except ModuleRegistryError as error:
        argument = "version" if "has no version" in str(error) else "module"
        raise PipelineDefinitionError(
            str(error), fix="", dag_id=dag_id, step=step, argument=argument
        ) from None
    if found.status == "Disabled":
        raise PipelineDefinitionError(
            f'version "{found.version}" of module "{name}" is disabled.',
            fix=f"Ask for another version, or enable it: airflow-ml module enable {name} {found.version}.",
            dag_id=dag_id,
            step=step,
            argument="version",
        )
    if found.status == "Deprecated":
        warnings.warn(
            f'DAG "{dag_id}", step "{step}": version "{found.version}" of module "{name}" is deprecated.',
            AzureMLCompatibilityWarning,
            stacklevel=2,
        )
    return found


def module_version(found: PublishedVersion) -> ModuleVersion:
    """The authoring model's ModuleVersion of a published version, its folder on this machine."""
    folder = local_folder(found)
    return ModuleVersion(
        found.module,
        found.version,
        found.script,
        str(folder),
        found.description,
        [InputPortDef(port.name, is_optional=port.optional) for port in found.interface.inputs],
        [
            OutputPortDef(port.name, default_datastore_name=port.datastore, is_directory=port.directory)
            for port in found.interface.outputs
        ],
        status=found.status,
        base_directory=Path(folder),
        digest=found.digest,
    )


def wire(
    found: PublishedVersion,
    *,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
    dag_id: str,
    step: str,
) -> list[Any]:
    """The step's command line from the version's template; ``inputs`` / ``outputs`` map port
    names to data objects, ``parameters`` parameter names to values. Every port and parameter
    named must exist, and every input that is not optional must be connected."""
    interface = found.interface

    def fail(problem: str, fix: str, argument: str) -> PipelineDefinitionError:
        return PipelineDefinitionError(problem, fix=fix, dag_id=dag_id, step=step, argument=argument)

    what = f'module "{found.module}" version "{found.version}"'
    for key, given, known in (
        ("inputs", inputs, [p.name for p in interface.inputs]),
        ("outputs", outputs, [p.name for p in interface.outputs]),
        ("parameters", parameters, [p.name for p in interface.parameters]),
    ):
        for name in given:
            if name not in known:
                raise fail(
                    f"{what} has no {key[:-1]} {name!r} (it has: {', '.join(known) or 'none'}).",
                    "Use the module's names (airflow-ml module show shows them).",
                    f"{key}.{name}",
                )
    for port in interface.inputs:
        if port.name not in inputs and not port.optional:
            raise fail(
                f'input port "{port.name}" of {what} is not connected.',
                f"Connect it: inputs: {{{port.name}: <data>}}.",
                "inputs",
            )
    for out in interface.outputs:
        if out.name not in outputs:
            raise fail(
                f'output port "{out.name}" of {what} is not connected.',
                f"Name the data it makes: outputs: {{{out.name}: <name>}}.",
                "outputs",
            )
    values = {p.name: p.default for p in interface.parameters} | dict(parameters)
    for name, value in values.items():
        if value is None:
            raise fail(
                f'parameter "{name}" of {what} has no default and no value.',
                f"Give it one: parameters: {{{name}: ...}}.",
                f"parameters.{name}",
            )
    kinds: dict[str, Callable[[str], Any]] = {
        "input": inputs.get,
        "output": outputs.get,
        "parameter": values.get,
    }
    line: list[Any] = []
    for token in interface.command_line():
        if not isinstance(token, dict):
            line.append(token)
            continue
        kind, name = next(iter(token.items()))
        value = kinds[kind](name)
        if value is None:  # an optional input left unconnected: drop it and its flag
            if line and isinstance(line[-1], str) and line[-1].startswith("-"):
                line.pop()
            continue
        line.append(value)
    return line
