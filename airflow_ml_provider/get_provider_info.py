"""Provider registration (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_ml_provider import __version__

_STRING = {"type": ["string", "null"]}
_BOOLEAN = {"type": ["boolean", "null"]}


def _field(label: str, description: str, schema: dict[str, Any] = _STRING) -> dict[str, Any]:
    return {"label": label, "schema": schema, "description": description}


# One form for every kind; each label says which kinds read the field. JSON fields take the
# Kubernetes API's own shapes.
_COMPUTE_FIELDS = {
    "image": _field(
        "Image", "docker, kubernetes: the image steps run in (a step's Environment(image=) wins)."
    ),
    "python": _field("Python in the image", "docker, kubernetes: the interpreter (default python3)."),
    "envs_root": _field(
        "Virtualenv folder", "venv: where environments are built (default under AIRFLOW_HOME)."
    ),
    "docker_url": _field(
        "Docker engine URL", "docker: e.g. unix:///var/run/docker.sock (default $DOCKER_HOST)."
    ),
    "docker_conn_id": _field(
        "Docker registry connection", "docker: an existing docker connection to log in with."
    ),
    "network_mode": _field(
        "Docker network mode",
        "docker: none, host, bridge or a network name (default host when tracked "
        "on an MLflow server, else none).",
    ),
    "user": _field("Docker user", "docker: uid:gid inside the container (default the worker's)."),
    "shm_size": _field("Docker shared memory", "docker: e.g. 2g."),
    "cpus": _field("CPUs", "docker: CPU limit; kubernetes: CPU request and limit (e.g. 1.5, 500m)."),
    "memory": _field("Memory", "docker: e.g. 4g; kubernetes: request and limit, e.g. 16Gi."),
    "gpus": _field("GPUs", "docker: a count or all; kubernetes: the nvidia.com/gpu limit."),
    "gpu_resource": _field("GPU resource name", "kubernetes: default nvidia.com/gpu."),
    "namespace": _field("Kubernetes namespace", "kubernetes: default default."),
    "kubernetes_conn_id": _field("Kubernetes connection", "kubernetes: default kubernetes_default."),
    "in_cluster": _field("In cluster", "kubernetes: the worker runs inside the cluster.", _BOOLEAN),
    "config_file": _field("Kubeconfig file", "kubernetes: path on the worker."),
    "cluster_context": _field("Kubeconfig context", "kubernetes"),
    "service_account": _field("Service account", "kubernetes"),
    "node_selector": _field("Node selector (JSON)", 'kubernetes: e.g. {"accelerator": "nvidia-a100"}.'),
    "tolerations": _field(
        "Tolerations (JSON)", 'kubernetes: e.g. [{"key": "nvidia.com/gpu", "operator": "Exists"}].'
    ),
    "volumes": _field("Volumes (JSON)", "kubernetes: a list of V1Volume objects."),
    "volume_mounts": _field("Volume mounts (JSON)", "kubernetes: a list of V1VolumeMount objects."),
    "dags_folder": _field("DAG folder in the image", "kubernetes: where the worker's DAG folder is inside."),
    "python_path": _field("PYTHONPATH in the pod", "kubernetes: where the image has the provider package."),
    "on_finish_action": _field("When the pod ends", "kubernetes: delete_pod (default), keep_pod, ..."),
    "image_pull_policy": _field("Image pull policy", "kubernetes: Always, IfNotPresent or Never."),
}


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
                    **_COMPUTE_FIELDS,
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "password", "host"],
                    "placeholders": {"extra": '{"kind": "docker", "image": "python:3.11"}'},
                },
            },
        ],
    }
