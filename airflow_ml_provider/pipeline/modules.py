"""Azure ML v1 modules: a script published in versions, run by ``ModuleStep``.

``Module.create(workspace, name)`` and ``module.publish_python_script(...)`` define the
module and its versions in the DAG file (there is no module registry shared between DAG
files yet); ``ModuleStep(module=..., version=...)`` runs the version asked for, else the
default one, else the latest. A disabled version is refused, a deprecated one warned
about. The version is part of the step's fingerprint.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_ml_provider.pipeline.compat import AzureMLCompatibilityWarning, ignored_keywords
from airflow_ml_provider.pipeline.data import PipelineData
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.steps import PythonScriptStep, _defining_file_directory


@dataclass(frozen=True)
class InputPortDef:
    """A named input of a module."""

    name: str
    default_datastore_mode: str = "mount"
    default_path_on_compute: str | None = None
    is_optional: bool = False
    default_overwrite: bool = False
    default_data_reference_name: str | None = None
    is_resource: bool = False
    label: str | None = None
    data_types: list[str] | None = None


@dataclass(frozen=True)
class OutputPortDef:
    """A named output of a module."""

    name: str
    default_datastore_name: str | None = None
    default_datastore_mode: str = "mount"
    default_path_on_compute: str | None = None
    is_directory: bool = False
    data_type: str | None = None
    default_overwrite: bool | None = None
    training_output: Any = None
    label: str | None = None


@dataclass
class ModuleVersion:
    """One published version of a module: its script, folder and ports."""

    module_name: str
    version: str
    script_name: str
    source_directory: str
    description: str | None
    inputs: list[InputPortDef]
    outputs: list[OutputPortDef]
    status: str = "Active"
    base_directory: Any = None
    # The digest of the folder when it was published to the module registry.
    digest: str | None = None

    def deprecate(self) -> None:
        self.status = "Deprecated"

    def disable(self) -> None:
        self.status = "Disabled"

    def enable(self) -> None:
        self.status = "Active"


@dataclass
class Module:
    """A named module and its versions (``Module.create`` in the DAG file)."""

    name: str
    description: str | None = None
    versions: dict[str, ModuleVersion] = field(default_factory=dict)
    default_version: str | None = None

    @classmethod
    def create(
        cls, workspace: Any, name: str, description: str | None = None, **ignored_options: Any
    ) -> Module:
        return cls(name, description)

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
        ignored_keywords(
            "Module.publish_python_script",
            {"hash_paths": hash_paths, "runconfig": runconfig, "params": params},
            {
                "hash_paths": "every file of source_directory is part of the step's fingerprint already.",
                "runconfig": "give runconfig= to the ModuleStep that runs the module.",
                "params": "give params= to the ModuleStep that runs the module.",
            },
        )
        number = str(version) if version is not None else str(len(self.versions) + 1)
        if number in self.versions:
            raise PipelineDefinitionError(
                f'module "{self.name}" already has a version "{number}".',
                fix="Publish the new script under a new version.",
                argument="version",
            )
        self.versions[number] = ModuleVersion(
            self.name,
            number,
            script_name,
            str(source_directory or "."),
            description,
            list(inputs),
            list(outputs),
            base_directory=_defining_file_directory(),
        )
        if is_default or self.default_version is None:
            self.default_version = number
        return self.versions[number]

    def set_default_version(self, version_id: str) -> None:
        self.resolve(version_id)
        self.default_version = str(version_id)

    def resolve(self, version: str | None = None) -> ModuleVersion:
        """The version asked for, else the default one; a disabled version is refused."""
        number = str(version) if version is not None else self.default_version
        found = self.versions.get(number or "")
        if found is None:
            raise PipelineDefinitionError(
                f'module "{self.name}" has no version {number!r} '
                f"(it has {', '.join(self.versions) or 'none'}).",
                fix="Publish that version, or ask for one that exists.",
                argument="version",
            )
        if found.status == "Disabled":
            raise PipelineDefinitionError(
                f'version "{found.version}" of module "{self.name}" is disabled.',
                fix="Enable it, or run another version.",
                argument="version",
            )
        if found.status == "Deprecated":
            warnings.warn(
                f'version "{found.version}" of module "{self.name}" is deprecated.',
                AzureMLCompatibilityWarning,
                stacklevel=3,
            )
        return found


class ModuleStep(PythonScriptStep):
    """Run a version of a module, its ports wired by ``inputs_map`` / ``outputs_map``."""

    def __init__(
        self,
        module: Module | None = None,
        version: str | None = None,
        module_version: ModuleVersion | None = None,
        inputs_map: Mapping[Any, Any] | None = None,
        outputs_map: Mapping[Any, PipelineData] | None = None,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: Mapping[str, Any] | None = None,
        arguments: Sequence[Any] | None = None,
        params: Mapping[str, Any] | None = None,
        name: str | None = None,
        _workflow_provider: Any = None,
        **step_options: Any,
    ) -> None:
        if module_version is None:
            if module is None:
                raise PipelineDefinitionError(
                    "neither module nor module_version was given.",
                    fix="Give module= (and version=), or module_version=.",
                    step=name,
                    argument="module",
                )
            module_version = module.resolve(version)
        self.module_version = module_version
        step_options.setdefault("version", f"{module_version.module_name}:{module_version.version}")
        super().__init__(
            script_name=module_version.script_name,
            name=name or module_version.module_name,
            arguments=arguments,
            compute_target=compute_target,
            inputs=list((inputs_map or {}).values()),
            outputs=list((outputs_map or {}).values()),
            params=params,
            source_directory=module_version.source_directory,
            runconfig=runconfig,
            runconfig_pipeline_params=runconfig_pipeline_params,
            base_directory=module_version.base_directory,
            **step_options,
        )
