"""The interface of a compute kind: what every kind (local, venv, docker, kubernetes) answers.

- ``declaration``: its name and its options (``compute_kinds``), from which its connection
  type and form are derived;
- ``environment_identity``: what, on this kind, makes a step's environment what it is, for
  the step's fingerprint;
- ``run``: how it runs one step attempt.

A new kind is one module implementing this, one declaration and one registration
(``compute.kinds``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_ml_provider.compute_kinds import KindDeclaration, Option

if TYPE_CHECKING:
    from airflow_ml_provider.hooks.compute import ComputeTarget
    from airflow_ml_provider.pipeline.environment import Environment
    from airflow_ml_provider.runtime import StepResult, StepSpec
    from airflow_ml_provider.runtime.process import Stopper

Log = Callable[[str], None]


class ComputeKind(ABC):
    declaration: ClassVar[KindDeclaration]

    @property
    def name(self) -> str:
        return self.declaration.name

    @property
    def options(self) -> tuple[Option, ...]:
        return self.declaration.options

    def environment_identity(self, target: ComputeTarget, environment: Environment | None) -> dict[str, Any]:
        """The fingerprint's environment entries this kind adds (or overrides) beside the ones
        every kind has (the kind, the worker's Python, requirements, variables, image name).

        Only what decides the environment the script really gets on this kind belongs here.
        """
        return {}

    @abstractmethod
    def run(
        self,
        target: ComputeTarget,
        spec: StepSpec,
        environment: Environment,
        base_directory: Path,
        *,
        info: Log,
        warning: Log,
        stopper: Stopper | None = None,
    ) -> StepResult:
        """Run one step attempt on ``target``; ``environment`` is the step's, relative to ``base_directory``.

        ``stopper`` stops it from another thread (the run task's ``on_kill``): the script's
        process group, its container or its pod.
        """
