"""The ``kubernetes`` kind: the runtime as a pod's command, through ``KubernetesPodOperator``.

A pod cannot see the worker's disk: its data comes from and goes to object-storage datastores
(the runtime downloads inputs and uploads outputs itself), and local datastores are refused.
The step's code must be in the image: the worker's DAG folder is found under the target's
``dags_folder`` inside it (the same path when not given), and the image must have the provider
package (or just ``airflow_ml_provider/runtime`` with ``blake3`` and ``fsspec``) importable.
The spec travels in an environment variable, its credentials in a per-attempt Kubernetes Secret
(never in the pod's definition); the result comes back through the pod's XCom sidecar
(``/airflow/xcom/return.json``).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow.providers.cncf.kubernetes.backcompat.backwards_compat_converters import _convert_from_dict
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.compute.kind import ComputeKind
from airflow_ml_provider.compute_kinds import KUBERNETES
from airflow_ml_provider.hooks.compute import ComputeTarget
from airflow_ml_provider.hooks.tracking_config import local_store_folder
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.runtime import StepResult, StepSpec
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.secrets import split_secrets
from airflow_ml_provider.runtime.staging import local_path

Log = Callable[[str], None]
SPEC_VARIABLE = "AML_STEP_SPEC"
SECRETS_VARIABLE = "AML_STEP_SECRETS"
SECRET_KEY = "secrets.json"
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


def _kubernetes_name(step: str) -> str:
    return f"aml-{step}".lower().replace("_", "-")


def pod_secret(
    target: ComputeTarget, spec: StepSpec, secret_name: str, *, worker_dags_folder: str | None = None
) -> k8s.V1Secret | None:
    """The Kubernetes Secret that carries the spec's credentials to its pod (None: it has none).

    Created just before the pod and deleted after it, one per attempt.
    """
    _, secrets = split_secrets(pod_spec(target, spec, worker_dags_folder))
    if not secrets:
        return None
    return k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(
            name=secret_name,
            namespace=target.options.get("namespace") or "default",
            labels={"airflow-ml-provider/step": spec.step},
        ),
        type="Opaque",
        string_data={SECRET_KEY: json.dumps(secrets)},
    )


def pod_operator(
    target: ComputeTarget,
    spec: StepSpec,
    image: str | None,
    *,
    worker_dags_folder: str | None = None,
    secret_name: str | None = None,
) -> KubernetesPodOperator:
    """The pod for one step attempt, as a KubernetesPodOperator (not added to any DAG).

    Its definition holds no credential: they come from the Secret ``secret_name`` (see
    :func:`pod_secret`) into one environment variable, and the pod's spec is never logged.
    No shell runs in the pod: the runtime is its command, every option one argument.
    """
    refuse_local_data(target, spec)
    options = target.options
    chosen = image or options.get("image")
    if not chosen:
        raise ComputeError(
            f'compute target "{target.name}" is a kubernetes target with no image: set "image" in the '
            'connection extra or give the step environment=Environment(image="...").'
        )
    in_pod, secrets = split_secrets(pod_spec(target, spec, worker_dags_folder))
    secret_name = secret_name or f"{_kubernetes_name(spec.step)}-{uuid.uuid4().hex[:10]}"
    runtime = ["-m", "airflow_ml_provider.runtime", "--spec-env", SPEC_VARIABLE]
    if secrets:
        runtime += ["--secrets-env", SECRETS_VARIABLE]
    return KubernetesPodOperator(
        task_id=f"{spec.step}_pod",
        name=_kubernetes_name(spec.step),
        kubernetes_conn_id=options.get("kubernetes_conn_id") or "kubernetes_default",
        in_cluster=options.get("in_cluster"),
        config_file=options.get("config_file"),
        cluster_context=options.get("cluster_context"),
        namespace=options.get("namespace") or "default",
        image=str(chosen),
        image_pull_policy=options.get("image_pull_policy"),
        cmds=[in_pod.python],
        arguments=[*runtime, RESULT_FILE],
        env_vars={
            SPEC_VARIABLE: in_pod.to_json(),
            "PYTHONUNBUFFERED": "1",
            **({"PYTHONPATH": options["python_path"]} if options.get("python_path") else {}),
        },
        secrets=[Secret("env", SECRETS_VARIABLE, secret_name, SECRET_KEY)] if secrets else None,
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
        log_pod_spec_on_failure=False,
        on_finish_action=options.get("on_finish_action") or "delete_pod",
    )


def run_in_pod(
    target: ComputeTarget,
    spec: StepSpec,
    image: str | None,
    *,
    info: Log,
    warning: Log,
    stopper: Stopper | None = None,
) -> StepResult:
    """Run the pod under the current task's context; the pod's logs go to the task log."""
    from airflow.configuration import conf
    from airflow.sdk import get_current_context

    dags_folder = conf.get("core", "dags_folder")
    secret_name = f"{_kubernetes_name(spec.step)}-{uuid.uuid4().hex[:10]}"
    operator = pod_operator(target, spec, image, worker_dags_folder=dags_folder, secret_name=secret_name)
    secret = pod_secret(target, spec, secret_name, worker_dags_folder=dags_folder)
    info(f'step "{spec.step}": pod {operator.name} in namespace {operator.namespace}, image {operator.image}')
    if stopper is not None:
        stopper.on_stop(operator.on_kill)
    try:
        if secret is not None:
            operator.hook.core_v1_client.create_namespaced_secret(operator.namespace, secret)
        result = operator.execute(get_current_context())
    except ComputeError:
        raise
    except Exception as error:
        raise ComputeError(f'step "{spec.step}": the pod on "{target.name}" failed: {error}') from error
    finally:
        if secret is not None:
            try:
                operator.hook.core_v1_client.delete_namespaced_secret(secret_name, operator.namespace)
            except Exception as error:
                warning(f'step "{spec.step}": could not delete the Secret {secret_name}: {error}')
    return StepResult.from_json(json.dumps(result))


class KubernetesKind(ComputeKind):
    declaration = KUBERNETES

    def environment_identity(self, target: ComputeTarget, environment: Environment | None) -> dict[str, Any]:
        """The step's image: the worker cannot resolve a cluster's images, so its name (tag)
        stands in for its digest."""
        image = str((environment.image if environment else None) or target.options.get("image") or "")
        return {"image_digest": image} if image else {}

    def run(
        self,
        target: ComputeTarget,
        spec: StepSpec,
        environment: Environment,
        base_directory: Path,
        *,
        info: Log,
        warning: Log,
        stopper: Stopper | None = None,
    ) -> StepResult:
        return run_in_pod(target, spec, environment.image, info=info, warning=warning, stopper=stopper)
