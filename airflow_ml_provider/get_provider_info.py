"""Provider registration (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_ml_provider import __version__

_STRING = {"type": ["string", "null"]}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-ml-provider",
        "name": "ML Pipelines",
        "description": "Azure ML style pipelines of steps with data references, reuse of "
        "unchanged steps, MLflow tracking and named compute targets.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "ML Pipelines",
                "external-doc-url": "https://pypi.org/project/airflow-ml-provider/",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": "ML Pipelines",
                "python-modules": ["airflow_ml_provider.operators.step"],
            }
        ],
        "hooks": [
            {
                "integration-name": "ML Pipelines",
                "python-modules": [
                    "airflow_ml_provider.hooks.tracking",
                    "airflow_ml_provider.hooks.datastore",
                    "airflow_ml_provider.hooks.compute",
                ],
            }
        ],
        "extra-links": ["airflow_ml_provider.links.MlflowRunLink"],
        "connection-types": [
            {
                "hook-class-name": "airflow_ml_provider.hooks.tracking.TrackingHook",
                "hook-name": "ML Tracking (MLflow)",
                "connection-type": "ml_tracking",
                "conn-fields": {
                    "tracking_uri": {
                        "label": "Tracking URI",
                        "schema": _STRING,
                        "description": "What workers use, e.g. http://mlflow:5000 (else the Host field).",
                    },
                    "ui_url": {
                        "label": "Browser URL",
                        "schema": _STRING,
                        "description": "What people open; used for the run links on tasks.",
                    },
                    "token": {"label": "Token", "schema": {"type": ["string", "null"], "format": "password"}},
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema"],
                    "relabeling": {"host": "Tracking URI", "login": "Username"},
                    "placeholders": {"host": "http://mlflow:5000"},
                },
            },
            {
                "hook-class-name": "airflow_ml_provider.hooks.datastore.DatastoreHook",
                "hook-name": "ML Datastore",
                "connection-type": "ml_datastore",
                "conn-fields": {
                    "base_uri": {
                        "label": "Base URI",
                        "schema": _STRING,
                        "description": "Where the datastore's files live: file:///data/raw, "
                        "s3://bucket/prefix, gs://..., abfs://...",
                    },
                    "endpoint_url": {
                        "label": "Endpoint URL",
                        "schema": _STRING,
                        "description": "For S3-compatible stores other than AWS.",
                    },
                    "aws_conn_id": {
                        "label": "AWS connection",
                        "schema": _STRING,
                        "description": "An existing AWS connection to take S3 credentials from.",
                    },
                    "region_name": {
                        "label": "Region",
                        "schema": _STRING,
                        "description": "S3 region (optional).",
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host"],
                    "relabeling": {"login": "Access key id", "password": "Secret access key"},
                    "placeholders": {"extra": '{"base_uri": "s3://bucket/prefix"}'},
                },
            },
            {
                "hook-class-name": "airflow_ml_provider.hooks.compute.ComputeTargetHook",
                "hook-name": "ML Compute Target",
                "connection-type": "ml_compute",
                "conn-fields": {
                    "kind": {
                        "label": "Kind",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["local", "venv", "docker", "kubernetes", None],
                        },
                        "description": "local, venv, docker or kubernetes.",
                    },
                    "queue": {
                        "label": "Queue",
                        "schema": _STRING,
                        "description": "Airflow queue for the step's run task (Celery/Edge workers).",
                    },
                    "image": {"label": "Image", "schema": _STRING},
                    "namespace": {"label": "Kubernetes namespace", "schema": _STRING},
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "password"],
                    "relabeling": {"host": "Docker daemon / cluster URL"},
                    "placeholders": {"extra": '{"kind": "docker", "image": "python:3.11"}'},
                },
            },
        ],
    }
