"""Compute target kinds and the options each one reads: one declaration per kind.

A kind's connection type, its connection form and the parsing of its options are derived from
this, so a new option is declared once. Pure Python: read by the provider registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OptionType = Literal["string", "boolean", "json"]


@dataclass(frozen=True)
class Option:
    """One setting of a compute target, stored in its connection's extra under ``name``."""

    name: str
    label: str
    description: str
    type: OptionType = "string"
    placeholder: str | None = None


@dataclass(frozen=True)
class KindDeclaration:
    """A compute kind as the connection form and the hook see it: its name, title and options."""

    name: str
    title: str
    options: tuple[Option, ...]

    @property
    def conn_type(self) -> str:
        return f"mlcompute{self.name}"

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)


QUEUE = Option(
    "queue",
    "Queue",
    "Airflow queue of the step's run task: the Celery or Edge workers serving it take the step.",
    placeholder="gpu",
)
IMAGE = Option("image", "Image", "The image steps run in (a step's Environment(image=) wins).")
CPUS = Option("cpus", "CPUs", "CPU limit, e.g. 1.5.")
MEMORY = Option("memory", "Memory", "Memory limit, e.g. 4g.")

LOCAL = KindDeclaration("local", "ML compute target: local", (QUEUE,))
VENV = KindDeclaration(
    "venv",
    "ML compute target: virtualenv",
    (
        QUEUE,
        Option(
            "envs_root",
            "Virtualenv folder",
            "Where environments are built, one per requirements digest (default $AIRFLOW_HOME/ml/envs).",
        ),
    ),
)
DOCKER = KindDeclaration(
    "docker",
    "ML compute target: Docker",
    (
        QUEUE,
        IMAGE,
        Option(
            "docker_url",
            "Docker engine URL",
            "Default $DOCKER_HOST.",
            placeholder="unix:///var/run/docker.sock",
        ),
        Option("docker_conn_id", "Registry connection", "An existing docker connection to log in with."),
        CPUS,
        MEMORY,
        Option("gpus", "GPUs", "A count, or all.", placeholder="all"),
        Option(
            "network_mode",
            "Network mode",
            "none, host, bridge or a network name (default: host when tracked on an MLflow server, "
            "else none).",
        ),
        Option("shm_size", "Shared memory", "e.g. 2g."),
        Option("user", "User", "uid:gid inside the container (default the worker's)."),
        Option("python", "Python in the image", "The interpreter (default python3)."),
    ),
)
KUBERNETES = KindDeclaration(
    "kubernetes",
    "ML compute target: Kubernetes",
    (
        QUEUE,
        IMAGE,
        Option("namespace", "Namespace", "Default: default."),
        Option("kubernetes_conn_id", "Kubernetes connection", "Default: kubernetes_default."),
        Option("in_cluster", "In cluster", "The worker runs inside the cluster.", type="boolean"),
        Option("config_file", "Kubeconfig file", "Path on the worker."),
        Option("cluster_context", "Kubeconfig context", "A context of the kubeconfig."),
        Option("cpus", "CPUs", "CPU request and limit, e.g. 4 or 500m."),
        Option("memory", "Memory", "Memory request and limit, e.g. 16Gi."),
        Option("gpus", "GPUs", "The GPU limit (resource below).", placeholder="1"),
        Option("gpu_resource", "GPU resource name", "Default nvidia.com/gpu."),
        Option(
            "node_selector",
            "Node selector",
            "JSON object.",
            type="json",
            placeholder='{"accelerator": "nvidia-a100"}',
        ),
        Option(
            "tolerations",
            "Tolerations",
            "JSON list of V1Toleration objects.",
            type="json",
            placeholder='[{"key": "nvidia.com/gpu", "operator": "Exists"}]',
        ),
        Option("service_account", "Service account", "The pod's service account."),
        Option("volumes", "Volumes", "JSON list of V1Volume objects.", type="json"),
        Option("volume_mounts", "Volume mounts", "JSON list of V1VolumeMount objects.", type="json"),
        Option(
            "dags_folder", "DAG folder in the image", "Where the worker's DAG folder is inside the image."
        ),
        Option("python_path", "PYTHONPATH in the pod", "Where the image has the provider package."),
        Option("python", "Python in the image", "The interpreter (default python3)."),
        Option("on_finish_action", "When the pod ends", "delete_pod (default), keep_pod, ..."),
        Option("image_pull_policy", "Image pull policy", "Always, IfNotPresent or Never."),
    ),
)

KINDS: dict[str, KindDeclaration] = {kind.name: kind for kind in (LOCAL, VENV, DOCKER, KUBERNETES)}
KIND_OF_CONN_TYPE: dict[str, KindDeclaration] = {kind.conn_type: kind for kind in KINDS.values()}
