"""Step arguments as neutral tokens: literals, parameters, and data by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from airflow_ml_provider.pipeline.data import DataReference, PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name

TokenKind = Literal["literal", "parameter", "data"]


@dataclass(frozen=True)
class ArgumentToken:
    """One command-line argument before run time.

    ``literal`` holds the text; ``parameter`` and ``data`` hold a name that the run
    task replaces with the parameter's value or the data's local path.
    """

    kind: TokenKind
    value: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}


def tokenize(value: Any, *, argument: str) -> ArgumentToken:
    """Turn one user argument into a token, or say why it cannot be rendered."""
    if isinstance(value, bool):
        return ArgumentToken("literal", str(value))
    if isinstance(value, str | int | float | PurePath):
        return ArgumentToken("literal", str(value))
    if isinstance(value, PipelineParameter):
        check_name(value.name, what="PipelineParameter name", step=None, argument=argument)
        return ArgumentToken("parameter", value.name)
    if isinstance(value, DataReference | PipelineData):
        if value.problem is not None:
            detail = f"{argument}.{value.problem.argument}" if value.problem.argument else argument
            raise value.problem.located(argument=detail)
        return ArgumentToken("data", value.name)
    raise PipelineDefinitionError(
        f"a value of type {type(value).__name__} ({value!r:.60}) cannot be rendered as a "
        "command-line argument.",
        fix="Use a str, int, float, bool, pathlib path, PipelineParameter, DataReference or "
        "PipelineData; convert other values to str yourself.",
        argument=argument,
    )


def render_parameter(value: Any) -> str:
    """How a parameter value reads on the command line (None as an empty string)."""
    if value is None:
        return ""
    return str(value)
