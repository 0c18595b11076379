"""Provider registration (entry point ``apache_airflow_provider``).

Connection forms are declared as data (``conn-fields``, ``ui-field-behaviour``, read by Airflow
3.2+; on 3.1 the connection's extra is edited as JSON). Each compute target kind has its own
connection type, whose form is derived from that kind's declared options.
"""

from __future__ import annotations

from typing import Any

from airflow_ml_provider import __version__
from airflow_ml_provider.compute_kinds import KINDS, KindDeclaration, Option
from airflow_ml_provider.connection_types import DATASTORE_TYPE, TRACKING_TYPE
from airflow_ml_provider.settings import OPTIONS, SECTION

# What the integration brings to Airflow: the Azure ML (SDK v1) pipelines programming model.
MODEL_DOCS = (
    "https://learn.microsoft.com/en-us/azure/machine-learning/v1/how-to-create-machine-learning-pipelines"
)
_SCHEMA = {"string": {"type": ["string", "null"]}, "boolean": {"type": ["boolean", "null"]}}
_STANDARD_FIELDS = ("host", "schema", "login", "password", "port")


def _field(label: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"label": label, "schema": schema or _SCHEMA["string"], "description": description}


def _option_field(option: Option) -> dict[str, Any]:
    # JSON options are typed as text in the form; the hook parses them.
    schema = _SCHEMA["boolean"] if option.type == "boolean" else _SCHEMA["string"]
    return _field(option.label, option.description, schema)


def compute_connection_type(kind: KindDeclaration) -> dict[str, Any]:
    """The connection type of one compute kind: a form field per declared option, nothing else."""
    hook = "ComputeTargetHook" if kind.name == "local" else f"{kind.name.capitalize()}ComputeHook"
    return {
        "hook-class-name": f"airflow_ml_provider.hooks.compute.{hook}",
        "hook-name": kind.title,
        "connection-type": kind.conn_type,
        "conn-fields": {option.name: _option_field(option) for option in kind.options},
        "ui-field-behaviour": {
            "hidden-fields": list(_STANDARD_FIELDS),
            "relabeling": {},
            "placeholders": {
                option.name: option.placeholder for option in kind.options if option.placeholder
            },
        },
    }


def _tracking_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "airflow_ml_provider.hooks.tracking.TrackingHook",
        "hook-name": "ML tracking (MLflow)",
        "connection-type": TRACKING_TYPE,
        "conn-fields": {
            "ui_url": _field("Browser URL", "What people open: the task links to MLflow runs use it."),
            "token": _field(
                "Token",
                "For a server that takes a bearer token.",
                {"type": ["string", "null"], "format": "password"},
            ),
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Tracking URI", "login": "Username"},
            "placeholders": {"host": "http://mlflow:5000", "ui_url": "http://localhost:5000"},
        },
    }


def _datastore_connection_type() -> dict[str, Any]:
    return {
        "hook-class-name": "airflow_ml_provider.hooks.datastore.DatastoreHook",
        "hook-name": "ML datastore",
        "connection-type": DATASTORE_TYPE,
        "conn-fields": {
            "endpoint_url": _field("Endpoint URL", "S3-compatible stores other than AWS."),
            "aws_conn_id": _field(
                "AWS connection", "An existing AWS connection to take S3 credentials from."
            ),
            "region_name": _field("Region", "S3 region (optional)."),
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Base URI", "login": "Access key id", "password": "Secret access key"},
            "placeholders": {
                "host": "s3://bucket/prefix or file:///data/raw",
                "endpoint_url": "http://minio:9000",
            },
        },
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-ml-provider",
        "name": "ML Pipelines",
        "description": "Azure ML style pipelines of steps with data references, reuse of "
        "unchanged steps, MLflow tracking and named compute targets.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "ML Pipelines", "external-doc-url": MODEL_DOCS, "tags": ["software"]}
        ],
        "operators": [
            {
                "integration-name": "ML Pipelines",
                "python-modules": ["airflow_ml_provider.operators.step"],
            }
        ],
        "triggers": [
            {
                "integration-name": "ML Pipelines",
                "python-modules": ["airflow_ml_provider.triggers.lease"],
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
            _tracking_connection_type(),
            _datastore_connection_type(),
            *(compute_connection_type(kind) for kind in KINDS.values()),
        ],
        "config": {
            SECTION: {
                "description": "ML pipelines: the step cache, code snapshots, tracking and the local "
                "run server. Each key can also be set as AIRFLOW__ML_PIPELINES__<KEY>.",
                "options": {
                    key: {
                        "description": option.description,
                        "version_added": "0.1.0",
                        "type": option.type,
                        "example": None,
                        "default": option.default,
                    }
                    for key, option in OPTIONS.items()
                },
            },
        },
    }
