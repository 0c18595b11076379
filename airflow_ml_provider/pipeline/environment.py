"""What a step's script needs around it: requirements, Python, image, variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Environment:
    """A step's environment; its contents are part of the step's fingerprint.

    ``requirements`` is a requirements (or lock) file, relative to the DAG file.
    """

    requirements: str | os.PathLike[str] | None = None
    python: str | None = None
    image: str | None = None
    variables: dict[str, str] = field(default_factory=dict)

    def requirements_path(self, base_directory: Path) -> Path | None:
        if self.requirements is None:
            return None
        return (base_directory / Path(self.requirements)).resolve()
