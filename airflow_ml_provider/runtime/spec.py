"""What the run task hands the runtime, and what the runtime hands back: plain JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

# The spec's form: a worker and a step image with another provider version may disagree on it.
SPEC_VERSION = 1


class SpecVersionError(ValueError):
    """The spec was written by a provider version whose spec form this runtime does not read."""


@dataclass(frozen=True)
class InputSpec:
    """One input as the script will see it: ``mode`` is download, mount or direct."""

    name: str
    uri: str
    mode: str
    storage_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputSpec:
    """Where one output is published once the step succeeded."""

    name: str
    uri: str
    is_directory: bool = True
    storage_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepSpec:
    """Everything needed to run one step attempt, with no Airflow in sight.

    ``arguments`` are tokens: ``{"kind": "literal"|"parameter"|"data", "value": ...}``;
    parameter tokens were already replaced by their values (as literals) by the caller.
    """

    step: str
    script: str
    source_directory: str
    arguments: list[dict[str, str]]
    inputs: list[InputSpec]
    outputs: list[OutputSpec]
    work_directory: str
    python: str
    environment: dict[str, str] = field(default_factory=dict)
    python_path: list[str] = field(default_factory=list)
    version: int = SPEC_VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StepSpec:
        raw = json.loads(text)
        if raw.get("version") != SPEC_VERSION:
            raise SpecVersionError(
                f"the step spec is version {raw.get('version')}, this runtime reads version {SPEC_VERSION}: "
                "install the same airflow-ml-provider version in the step's image as on the Airflow workers."
            )
        raw["inputs"] = [InputSpec(**item) for item in raw["inputs"]]
        raw["outputs"] = [OutputSpec(**item) for item in raw["outputs"]]
        return cls(**raw)


@dataclass(frozen=True)
class OutputRecord:
    """A published output: where it is and what it holds."""

    uri: str
    digest: str
    size: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StepResult:
    """What a successful attempt produced, and the first-party modules the script imported."""

    outputs: dict[str, OutputRecord]
    imported_modules: list[str] | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "outputs": {name: record.to_dict() for name, record in self.outputs.items()},
                "imported_modules": self.imported_modules,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> StepResult:
        raw = json.loads(text)
        return cls(
            outputs={name: OutputRecord(**item) for name, item in raw["outputs"].items()},
            imported_modules=raw["imported_modules"],
        )
