"""Azure ML v1's ``Estimator``: the script, its folder, its parameters and its environment,
given to ``EstimatorStep(estimator=...)``."""

from __future__ import annotations

import os
from typing import Any

from airflow_ml_provider.pipeline.compat import ignored, ignored_keywords
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.runconfig import AzureMLEnvironment, CondaDependencies, target_name

_WHY_NOT = {
    "vm_size": "the compute target connection says what runs the step.",
    "vm_priority": "the compute target connection says what runs the step.",
    "node_count": "a step runs as one process here; distributed training is not supported yet.",
    "process_count_per_node": "a step runs as one process here.",
    "distributed_backend": "distributed training is not supported yet.",
    "distributed_training": "distributed training is not supported yet.",
    "image_registry_details": "the docker compute target's connection holds registry credentials.",
    "shm_size": "set shm_size on the docker compute target's connection.",
    "resume_from": "a step's earlier outputs come from the step cache, not a checkpoint path.",
    "max_run_duration_seconds": "set execution_timeout on the DAG's default_args.",
    "framework_version": "the environment's requirements say which versions run.",
    "conda_dependencies_file": "conda environments are not built here; use pip_requirements_file.",
    "conda_dependencies_file_path": "conda environments are not built here; use pip_requirements_file.",
    "source_directory_data_store": "the source directory is read from the DAG bundle.",
}


class Estimator:
    """What an ``EstimatorStep`` runs: ``entry_script`` in ``source_directory`` (relative to the
    DAG file), with ``script_params`` as ``--key value`` arguments."""

    def __init__(
        self,
        source_directory: str | os.PathLike[str],
        *,
        compute_target: Any = None,
        entry_script: str | None = None,
        script_params: dict[str, Any] | None = None,
        use_gpu: bool = False,
        use_docker: bool = True,
        custom_docker_image: str | None = None,
        custom_docker_base_image: str | None = None,
        user_managed: bool = False,
        conda_packages: list[str] | None = None,
        pip_packages: list[str] | None = None,
        pip_requirements_file: str | None = None,
        pip_requirements_file_path: str | None = None,
        environment_variables: dict[str, str] | None = None,
        environment_definition: AzureMLEnvironment | Environment | None = None,
        inputs: list[Any] | None = None,
        **other_arguments: Any,
    ) -> None:
        ignored_keywords("Estimator", other_arguments, _WHY_NOT)
        unknown = sorted(
            set(other_arguments) - set(_WHY_NOT) - {"_enable_optimized_mode", "_disable_validation"}
        )
        for argument in unknown:
            ignored("Estimator", argument, "it has no equivalent here.")
        if inputs:
            ignored("Estimator", "inputs", "give the step's inputs to EstimatorStep(inputs=...).")
        self.source_directory = source_directory
        self.compute_target = target_name(compute_target)
        self.entry_script = entry_script
        self.script_params = dict(script_params or {})
        self.environment = _environment(
            environment_definition,
            image=custom_docker_image or custom_docker_base_image,
            requirements=pip_requirements_file or pip_requirements_file_path,
            packages=CondaDependencies(list(pip_packages or []), list(conda_packages or [])),
            variables=dict(environment_variables or {}),
        )


def _environment(
    definition: AzureMLEnvironment | Environment | None,
    *,
    image: str | None,
    requirements: str | None,
    packages: CondaDependencies,
    variables: dict[str, str],
) -> Environment | None:
    if isinstance(definition, Environment):
        return definition
    if definition is None:
        if not (image or requirements or packages.packages or variables):
            return None
        definition = AzureMLEnvironment("estimator")
        definition.docker.base_image = image
        definition.requirements_file = requirements
        definition.python.conda_dependencies = packages
    return definition.to_environment(variables)
