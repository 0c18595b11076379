"""Extra links on step tasks: the step attempt's MLflow run."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink


class MlflowRunLink(BaseOperatorLink):
    """Computed in the worker right after the task ran, from the URL the task recorded."""

    name = "MLflow run"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return str(getattr(operator, "mlflow_run_url", None) or "")
