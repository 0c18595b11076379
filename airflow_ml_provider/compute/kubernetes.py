"""The ``kubernetes`` kind: the runtime as a pod's command, through ``KubernetesPodOperator``.

A pod cannot see the worker's disk: its data comes from and goes to object-storage datastores
(the runtime downloads inputs and uploads outputs itself), and local datastores are refused.
The step's code must be in the image: the worker's DAG folder is found under the target's
``dags_folder`` inside it (the same path when not given), and the image must have the provider
package (or just ``airflow_ml_provider/runtime`` with ``blake3`` and ``fsspec``) importable.
The spec travels in an environment variable; the result comes back through the pod's XCom
sidecar (``/airflow/xcom/return.json``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow.providers.cncf.kubernetes.backcompat.backwards_compat_converters import _convert_from_dict
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.hooks.compute import ComputeTarget
from airflow_ml_provider.runtime import StepResult, StepSpec
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.tracking.config import local_store_folder

Log = Callable[[str], None]
SPEC_VARIABLE = "AML_STEP_SPEC"
POD_WORK_DIRECTORY = "/tmp/aml-work"
RESULT_FILE = "/airflow/xcom/return.json"


def refuse_local_data(target: ComputeTarget, spec: StepSpec) -> None:
    """Pods reach data through object storage; a ``file://`` datastore is on the worker's disk.

    So is a local MLflow store: the script's runs would land in a file inside the pod and be
    lost with it.
    """
    tracking_uri = spec.environment.get("MLFLOW_TRACKING_URI")
    if local_store_folder(tracking_uri) is not None:
        raise ComputeError(
            f'step "{spec.step}": its MLflow tracking store is on the worker\'s disk ({tracking_uri}), '
            f'which a pod on compute target "{target.name}" (kubernetes) cannot reach. Create an '
            'mltracking connection to an MLflow server (mlflow_default), or set tracking="off" on the step.'
        )
    for kind, name, uri in [
        *(("input", item.name, item.uri) for item in spec.inputs if item.mode != "direct"),
        *(("output", item.name, item.uri) for item in spec.outputs),
    ]:
        if local_path(uri) is not None:
            raise ComputeError(
                f'step "{spec.step}": {kind} "{name}" is on a local datastore ({uri}), which a pod on '
                f'compute target "{target.name}" (kubernetes) cannot reach. Put it on an object-storage '
                'datastore (an mldatastore connection whose Base URI is "s3://...", "gs://...", "abfs://...").'
            )


def pod_spec(target: ComputeTarget, spec: StepSpec, worker_dags_folder: str | None) -> StepSpec:
    """The spec as the pod sees it: its own work folder, code under the image's DAG folder."""
    image_dags = target.options.get("dags_folder")

    def in_pod(path: str) -> str:
        if image_dags and worker_dags_folder and Path(path).is_relative_to(worker_dags_folder):
            return str(Path(image_dags) / Path(path).relative_to(worker_dags_folder))
        return path

    return dataclasses.replace(
        spec,
        work_directory=POD_WORK_DIRECTORY,
        python=str(target.options.get("python") or "python3"),
        source_directory=in_pod(spec.source_directory),
        python_path=[in_pod(path) for path in spec.python_path],
    )


def _resources(options: dict[str, Any]) -> k8s.V1ResourceRequirements | None:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    for key, value in (("cpu", options.get("cpus")), ("memory", options.get("memory"))):
        if value:
            limits[key] = requests[key] = str(value)
    if options.get("gpus"):
        # Extended resources are limits only (Kubernetes sets the request equal).
        limits[str(options.get("gpu_resource") or "nvidia.com/gpu")] = str(options["gpus"])
    if not limits:
        return None
    return k8s.V1ResourceRequirements(limits=limits, requests=requests or None)


def pod_operator(
    target: ComputeTarget, spec: StepSpec, image: str | None, *, worker_dags_folder: str | None = None
) -> KubernetesPodOperator:
    """The pod for one step attempt, as a KubernetesPodOperator (not added to any DAG)."""
    refuse_local_data(target, spec)
    options = target.options
    chosen = image or options.get("image")
    if not chosen:
        raise ComputeError(
            f'compute target "{target.name}" is a kubernetes target with no image: set "image" in the '
            'connection extra or give the step environment=Environment(image="...").'
        )
    in_pod = pod_spec(target, spec, worker_dags_folder)
    runtime = f"{in_pod.python} -m airflow_ml_provider.runtime {POD_WORK_DIRECTORY}/spec.json {RESULT_FILE}"
    return KubernetesPodOperator(
        task_id=f"{spec.step}_pod",
        name=f"aml-{spec.step}".lower().replace("_", "-"),
        kubernetes_conn_id=options.get("kubernetes_conn_id") or "kubernetes_default",
        in_cluster=options.get("in_cluster"),
        config_file=options.get("config_file"),
        cluster_context=options.get("cluster_context"),
        namespace=options.get("namespace") or "default",
        image=str(chosen),
        image_pull_policy=options.get("image_pull_policy"),
        cmds=["sh", "-c"],
        arguments=[
            f'mkdir -p {POD_WORK_DIRECTORY} && printf "%s" "${SPEC_VARIABLE}" > '
            f"{POD_WORK_DIRECTORY}/spec.json && exec {runtime}"
        ],
        env_vars={
            SPEC_VARIABLE: in_pod.to_json(),
            "PYTHONUNBUFFERED": "1",
            **({"PYTHONPATH": options["python_path"]} if options.get("python_path") else {}),
        },
        container_resources=_resources(options),
        node_selector=options.get("node_selector"),
        tolerations=options.get("tolerations"),
        service_account_name=options.get("service_account"),
        volumes=[_convert_from_dict(item, k8s.V1Volume) for item in options.get("volumes") or []],
        volume_mounts=[
            _convert_from_dict(item, k8s.V1VolumeMount) for item in options.get("volume_mounts") or []
        ],
        labels={"airflow-ml-provider/step": spec.step},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action=options.get("on_finish_action") or "delete_pod",
    )


def run_in_pod(
    target: ComputeTarget, spec: StepSpec, image: str | None, *, info: Log, warning: Log
) -> StepResult:
    """Run the pod under the current task's context; the pod's logs go to the task log."""
    from airflow.configuration import conf
    from airflow.sdk import get_current_context

    operator = pod_operator(target, spec, image, worker_dags_folder=conf.get("core", "dags_folder"))
    info(f'step "{spec.step}": pod {operator.name} in namespace {operator.namespace}, image {operator.image}')
    try:
        result = operator.execute(get_current_context())
    except ComputeError:
        raise
    except Exception as error:
        raise ComputeError(f'step "{spec.step}": the pod on "{target.name}" failed: {error}') from error
    return StepResult.from_json(json.dumps(result))
