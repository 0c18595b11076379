"""Azure ML v1's ``Module`` with the module registry: ``Module.get(ws, name)`` and publishing
outside DAG files.

``Module.create(ws, name)`` then ``module.publish_python_script(...)`` in a plain Python
process (a publishing script, a notebook) records the version in the module registry, where
every DAG file and the designer find it; ``Module.get(ws, name)`` returns a module holding the
registry's versions, for ``ModuleStep(module=..., version=...)``. While Airflow parses a DAG
file nothing is written: a module published there belongs to that file alone, as before.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_ml_provider.modules.publish import ModuleDefinition, interface_of, publish
from airflow_ml_provider.modules.resolve import module_version
from airflow_ml_provider.modules.store import ModuleRegistry, ModuleRegistryError
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.modules import InputPortDef, ModuleVersion, OutputPortDef
from airflow_ml_provider.pipeline.modules import Module as FileModule

# The modules of Airflow that import DAG files: a publish called under them is DAG parsing.
_DAG_PARSERS = ("airflow.models.dagbag", "airflow.dag_processing.dagbag")


def parsing_dag_file() -> bool:
    """Whether this call happens while Airflow imports a DAG file."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_globals.get("__name__") in _DAG_PARSERS:
            return True
        frame = frame.f_back
    return False


def _argument(value: Any) -> Any:
    if isinstance(value, InputPortDef):
        return {"input": value.name}
    if isinstance(value, OutputPortDef):
        return {"output": value.name}
    return value


class Module(FileModule):
    """A module; its versions from the registry (``get``) or published in this file."""

    @classmethod
    def get(
        cls, workspace: Any, module_id: str | None = None, name: str | None = None, **ignored: Any
    ) -> Module:
        """The published module ``name`` with every version the registry holds."""
        wanted = name or module_id
        if not wanted:
            raise PipelineDefinitionError("Module.get was given no name.", fix="Give name=.", argument="name")
        registry = ModuleRegistry()
        try:
            default = registry.version(wanted)
        except ModuleRegistryError as error:
            raise PipelineDefinitionError(str(error), fix="", argument="name") from None
        module = cls(wanted, default.description)
        for found in registry.versions(wanted):
            module.versions[found.version] = module_version(found)
        module.default_version = default.version
        return module

    @classmethod
    def list(cls, workspace: Any, **ignored: Any) -> list[Module]:
        return [cls.get(workspace, name=name) for name in ModuleRegistry().names()]

    def publish_python_script(
        self,
        script_name: str,
        description: str | None,
        inputs: Sequence[InputPortDef],
        outputs: Sequence[OutputPortDef],
        params: Mapping[str, Any] | None = None,
        create_sequencing_ports: bool = True,
        version: str | None = None,
        is_default: bool = False,
        source_directory: str | os.PathLike[str] | None = None,
        hash_paths: Any = None,
        category: str | None = None,
        arguments: Any = None,
        runconfig: Any = None,
    ) -> ModuleVersion:
        """Publish a version: in the registry, unless a DAG file is being parsed (then in this
        file only); the version keeps its ports, ``params`` as parameters and ``arguments``."""
        if parsing_dag_file():
            return super().publish_python_script(
                script_name,
                description,
                inputs,
                outputs,
                params=params,
                create_sequencing_ports=create_sequencing_ports,
                version=version,
                is_default=is_default,
                source_directory=source_directory,
                hash_paths=hash_paths,
                category=category,
                arguments=arguments,
                runconfig=runconfig,
            )
        caller = inspect.currentframe()
        base = Path(caller.f_back.f_code.co_filename if caller and caller.f_back else ".").resolve().parent
        folder = (base / Path(source_directory or ".")).resolve()
        interface = interface_of(
            [{"name": p.name, "optional": p.is_optional} for p in inputs],
            [
                {"name": p.name, "directory": p.is_directory, "datastore": p.default_datastore_name}
                for p in outputs
            ],
            dict(params or {}),
            [_argument(value) for value in arguments or []],
            folder,
        )
        try:
            found, _ = publish(
                ModuleDefinition(
                    name=self.name,
                    script=script_name,
                    source_directory=folder,
                    interface=interface,
                    description=description or "",
                    version=None if version is None else str(version),
                    make_default=is_default,
                )
            )
        except ModuleRegistryError as error:
            raise PipelineDefinitionError(str(error), fix="", argument="version") from None
        published = module_version(found)
        self.versions[found.version] = published
        if found.is_default or self.default_version is None:
            self.default_version = found.version
        return published
