"""What a step's MLflow run records as params: rendered arguments, parameters, hyperparameters."""

from __future__ import annotations

from typing import Any

from airflow_ml_provider.pipeline.arguments import render_parameter
from airflow_ml_provider.pipeline.steps import PythonScriptStep


def pipeline_params(values: Any) -> dict[str, str]:
    """A DAG run's parameters (its ``params``), as the pipeline run's MLflow params."""
    return {str(name): render_parameter(values[name]) for name in values}


def step_params(step: PythonScriptStep, values: Any) -> dict[str, str]:
    """Data appear by name (their paths change every run); parameters by value."""
    if step.kind == "data_transfer":
        return transfer_params(step)
    rendered = []
    for token in step.arguments:
        if token.kind == "parameter":
            rendered.append(render_parameter(values[token.value]))
        elif token.kind == "data":
            rendered.append(f"<{token.value}>")
        else:
            rendered.append(token.value)
    params = {"arguments": " ".join(rendered)}
    params.update({name: render_parameter(values[name]) for name in step.parameters})
    for key, value in getattr(step, "hyperparameters", {}).items():
        params[key] = render_parameter(values[value.name] if hasattr(value, "default_value") else value)
    for name, token in step.params.items():
        value = values[token.value] if token.kind == "parameter" else token.value
        params[f"AML_PARAMETER_{name}"] = render_parameter(value)
    return params


def transfer_params(step: Any) -> dict[str, str]:
    """A copy's run records what it copies from and to (data by name, with their datastore paths)."""

    def where(data: Any) -> str:
        path = getattr(data, "path_on_datastore", None)
        return f"{data.name} ({data.datastore}:{path})" if path is not None else data.name

    return {
        "source": where(step.source),
        "destination": where(step.destination),
        # Left out, the copy takes the source as it finds it (a file or a folder).
        "source_reference_type": step.source_reference_type or "detected",
    }
