"""Azure ML v1's run configuration (``RunConfiguration``, its ``Environment``, ``CondaDependencies``)
mapped onto a step's compute target and :class:`~airflow_ml_provider.pipeline.environment.Environment`.

What maps: the compute target (``runconfig.target``), the container image
(``environment.docker.base_image``), environment variables, and a pip requirements file
(``Environment.from_pip_requirements``). Packages listed inline (``CondaDependencies``) are
not installed by the step here: that is said once, with what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_ml_provider.pipeline.compat import ignored
from airflow_ml_provider.pipeline.environment import Environment

_SDK_PACKAGES = ("azureml-", "azureml_")


@dataclass
class CondaDependencies:
    """The packages a v1 environment lists; kept so the port can say what to do with them."""

    pip_packages: list[str] = field(default_factory=list)
    conda_packages: list[str] = field(default_factory=list)
    python_version: str | None = None

    @classmethod
    def create(
        cls,
        pip_indexurl: str | None = None,
        pip_packages: list[str] | None = None,
        conda_packages: list[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
    ) -> CondaDependencies:
        return cls(list(pip_packages or []), list(conda_packages or []), python_version)

    def add_pip_package(self, pip_package: str) -> None:
        self.pip_packages.append(pip_package)

    def add_conda_package(self, conda_package: str) -> None:
        self.conda_packages.append(conda_package)

    @property
    def packages(self) -> list[str]:
        """Every listed package but the Azure ML SDK's own (the compatibility layer stands in)."""
        return [p for p in [*self.pip_packages, *self.conda_packages] if not p.startswith(_SDK_PACKAGES)]


@dataclass
class DockerSection:
    base_image: str | None = None
    enabled: bool = False
    use_docker: bool = False
    shm_size: str | None = None
    arguments: list[str] = field(default_factory=list)


@dataclass
class PythonSection:
    conda_dependencies: CondaDependencies = field(default_factory=CondaDependencies)
    user_managed_dependencies: bool = False
    interpreter_path: str = "python"


class AzureMLEnvironment:
    """Azure ML v1's ``Environment``: what the script runs in."""

    def __init__(self, name: str = "environment") -> None:
        self.name = name
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self.requirements_file: str | None = None

    @classmethod
    def from_pip_requirements(
        cls, name: str, file_path: str, pip_version: str | None = None
    ) -> AzureMLEnvironment:
        environment = cls(name)
        environment.requirements_file = file_path
        return environment

    @classmethod
    def from_docker_image(
        cls, name: str, image: str, container_registry: Any = None, conda_specification: str | None = None
    ) -> AzureMLEnvironment:
        environment = cls(name)
        environment.docker.base_image = image
        return environment

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str) -> AzureMLEnvironment:
        ignored(
            "Environment.from_conda_specification",
            "file_path",
            "conda environments are not built here; list the pip packages in a requirements file and use "
            "Environment.from_pip_requirements (venv compute builds it).",
        )
        return cls(name)

    @classmethod
    def get(
        cls, workspace: Any, name: str, version: str | None = None, label: str | None = None
    ) -> AzureMLEnvironment:
        ignored(
            "Environment.get",
            "name",
            f'there is no environment registry: "{name}" runs in the compute target\'s own Python '
            "(or give Environment.from_pip_requirements / from_docker_image).",
        )
        return cls(name)

    def register(self, workspace: Any) -> AzureMLEnvironment:
        return self

    def to_environment(self, extra_variables: dict[str, str] | None = None) -> Environment:
        """The step environment this stands for; inline packages are named in one warning."""
        packages = self.python.conda_dependencies.packages
        if packages:
            ignored(
                f'Environment("{self.name}")',
                "python.conda_dependencies",
                f"packages ({', '.join(packages)}) are not installed by the step: local compute uses the "
                "worker's packages; for venv compute put them in a requirements file "
                "(Environment.from_pip_requirements).",
            )
        return Environment(
            requirements=self.requirements_file,
            image=self.docker.base_image,
            variables={**self.environment_variables, **(extra_variables or {})},
        )


class RunConfiguration:
    """Azure ML v1's ``RunConfiguration``: its target and environment have a meaning here."""

    def __init__(
        self,
        script: str | None = None,
        arguments: list[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: CondaDependencies | None = None,
        _history_enabled: Any = None,
        _path: Any = None,
        _name: Any = None,
        command: Any = None,
    ) -> None:
        for argument, value in (("script", script), ("arguments", arguments), ("command", command)):
            if value is not None:
                ignored("RunConfiguration", argument, "the step's script_name and arguments say what runs.")
        self.target: Any = None
        self.environment = AzureMLEnvironment()
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.environment_variables: dict[str, str] = {}
        self.node_count = 1

    @property
    def docker(self) -> DockerSection:
        return self.environment.docker

    @property
    def conda_dependencies(self) -> CondaDependencies:
        return self.environment.python.conda_dependencies


def target_name(compute_target: Any) -> Any:
    """A compute target given as v1 does (an object with a name, or ``(name, type)``): its name."""
    if isinstance(compute_target, tuple) and compute_target:
        return compute_target[0]
    name = getattr(compute_target, "name", None)
    if not isinstance(compute_target, str) and isinstance(name, str):
        return name
    return compute_target


def step_environment(environment: Any, runconfig: RunConfiguration | None) -> Environment | None:
    """The step's Environment from a v1 Environment or a RunConfiguration (ours unchanged)."""
    if isinstance(environment, AzureMLEnvironment):
        return environment.to_environment()
    if environment is not None or runconfig is None:
        return environment
    return runconfig.environment.to_environment(runconfig.environment_variables)


def step_compute_target(compute_target: Any, runconfig: RunConfiguration | None) -> Any:
    """The step's own compute target, else the run configuration's."""
    if compute_target is None and runconfig is not None and runconfig.target is not None:
        return target_name(runconfig.target)
    return target_name(compute_target)
