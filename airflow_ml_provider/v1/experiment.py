"""Azure ML v1's ``Experiment``: a pipeline's runs are grouped under an MLflow experiment."""

from __future__ import annotations

from typing import Any


class Experiment:
    """An experiment by name; ``submit`` starts a pipeline run (see ``submit``)."""

    def __init__(self, workspace: Any, name: str, **ignored_options: Any) -> None:
        self.workspace = workspace
        self.name = name

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r})"
