"""The keys of a pipeline run's conf that the provider reads, beside the pipeline's parameters.

Written by the client (``PipelineClient.submit``) or anyone triggering the DAG with a conf;
read by the tasks. Pure Python: the client imports it without Airflow.
"""

from __future__ import annotations

from typing import Any

REGENERATE_OUTPUTS = "regenerate_outputs"
EXPERIMENT_NAME = "experiment_name"
RUN_TAGS = "tags"
ENDPOINT = "ml_endpoint"


def run_experiment(conf: dict[str, Any] | None, default: str) -> str:
    """The MLflow experiment of this run: the conf's ``experiment_name``, else the pipeline's."""
    value = (conf or {}).get(EXPERIMENT_NAME)
    return value if isinstance(value, str) and value.strip() else default


def pipeline_run_tags(conf: dict[str, Any] | None) -> dict[str, str]:
    """Tags for the run's MLflow pipeline run: the conf's ``tags``, and the endpoint it ran through."""
    conf = conf or {}
    tags = {str(key): str(value) for key, value in dict(conf.get(RUN_TAGS) or {}).items()}
    endpoint = conf.get(ENDPOINT)
    if isinstance(endpoint, dict):
        for key in ("name", "version", "pipeline_digest", "dag_version"):
            if endpoint.get(key) is not None:
                tags[f"endpoint_{key}" if key != "name" else "endpoint"] = str(endpoint[key])
    return tags
