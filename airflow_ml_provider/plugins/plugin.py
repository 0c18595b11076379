"""The UI plugin (entry point ``airflow.plugins``): pipeline views inside the Airflow UI.

- a "Pipeline" tab on each DAG and each DAG run: steps as a graph joined by their data, with
  each step's status, reuse decision and explanation, outputs and MLflow run; runs compared;
- "Step cache" (Browse): cached results, clearing them, why a step re-ran;
- "Pipeline designer": build a pipeline on a canvas and save it as a pipeline spec (YAML);
- the embedded tracking store's MLflow UI, so that run links work with no configuration;
- connection forms of the provider's types save only the fields that were set.

Everything is served by one FastAPI app under ``/ml-pipelines``, behind Airflow's login, and
each route checks the user's rights on the DAG it is about. The React views need Airflow 3.1+;
on 3.0 only the routes and the MLflow UI are there.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_ml_provider.hooks.tracking_config import PLUGIN_PATH, airflow_url
from airflow_ml_provider.plugins.connection_forms import SaveOnlySetFields

VIEWS = {
    "run": "Pipeline",
    "dag": "Pipeline graph",
    "cache": "Step cache",
    "designer": "Pipeline designer",
}


def _airflow_3_1_or_later() -> bool:
    from airflow import __version__
    from packaging.version import Version

    return Version(Version(__version__).base_version) >= Version("3.1.0")


def _fastapi_app() -> dict[str, Any]:
    from airflow_ml_provider.plugins.app import LazyApp

    return {"app": LazyApp(), "url_prefix": PLUGIN_PATH, "name": "ML pipelines"}


def _react_apps() -> list[dict[str, Any]]:
    bundle = airflow_url(f"{PLUGIN_PATH}/static/main.umd.cjs")
    return [
        {
            "name": VIEWS["run"],
            "bundle_url": bundle,
            "destination": "dag_run",
            "url_route": "ml-pipeline-run",
        },
        {"name": VIEWS["dag"], "bundle_url": bundle, "destination": "dag", "url_route": "ml-pipeline"},
        {
            "name": VIEWS["cache"],
            "bundle_url": bundle,
            "destination": "nav",
            "category": "browse",
            "url_route": "ml-step-cache",
        },
        {
            "name": VIEWS["designer"],
            "bundle_url": bundle,
            "destination": "nav",
            "category": "browse",
            "url_route": "ml-pipeline-designer",
        },
    ]


class MlPipelinesPlugin(AirflowPlugin):
    name = "ml_pipelines"
    # Airflow reads these class attributes; React apps need 3.1+ (as the edge3 provider guards).
    fastapi_apps = [_fastapi_app()]  # noqa: RUF012
    fastapi_root_middlewares = [  # noqa: RUF012
        {"middleware": SaveOnlySetFields, "args": [], "kwargs": {}, "name": "ML pipelines connection forms"}
    ]
    react_apps = _react_apps() if _airflow_3_1_or_later() else []
