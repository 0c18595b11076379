"""Compute targets decided without running anything: pods, containers, queues, venv digests.

No Kubernetes cluster can run on this machine, so the pod is built through
KubernetesPodOperator's own ``build_pod_request_obj`` and its fields are checked; running it
needs a cluster (see the README).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from airflow_ml_provider.compute.docker import bind_paths, container_config
from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.compute.kinds import kind_of
from airflow_ml_provider.compute.kubernetes import SPEC_VARIABLE, pod_operator
from airflow_ml_provider.compute.venv import venv_digest
from airflow_ml_provider.hooks.compute import ComputeTarget, ComputeTargetError, ComputeTargetHook
from airflow_ml_provider.runtime import InputSpec, OutputSpec, StepSpec


def _spec(inputs: list[InputSpec], outputs: list[OutputSpec]) -> StepSpec:
    return StepSpec(
        step="train",
        script="train.py",
        source_directory="/opt/airflow/dags/steps/train",
        arguments=[{"kind": "data", "value": "features"}],
        inputs=inputs,
        outputs=outputs,
        work_directory="/tmp/aml-train-x",
        python="/usr/bin/python3",
        environment={"AML_PARAMETER_C": "0.5"},
        python_path=["/opt/airflow/dags/steps/train", "/opt/airflow/dags"],
    )


GPU_TARGET = ComputeTarget(
    "gpu",
    "kubernetes",
    "gpu",
    {
        "image": "registry.example/ml:1.4",
        "namespace": "ml",
        "service_account": "trainer",
        "cpus": "4",
        "memory": "16Gi",
        "gpus": 2,
        "node_selector": {"accelerator": "nvidia-a100"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "volume_mounts": [{"name": "scratch", "mountPath": "/scratch"}],
        "dags_folder": "/app/dags",
    },
)


KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {token: unused}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
"""


def test_pod_request_carries_image_runtime_env_resources_and_scheduling(tmp_path: Path):
    # Building the request reads a kube config (for the XCom sidecar's settings) but contacts
    # no cluster: one that points nowhere is enough.
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    target = ComputeTarget(
        GPU_TARGET.name, GPU_TARGET.kind, GPU_TARGET.queue,
        {**GPU_TARGET.options, "config_file": str(tmp_path / "kubeconfig")},
    )  # fmt: skip
    spec = _spec(
        [InputSpec("features", "s3://ml/features", "download")],
        [OutputSpec("model", "s3://ml/pipeline-data/model")],
    )
    pod = pod_operator(target, spec, None, worker_dags_folder="/opt/airflow/dags").build_pod_request_obj()

    assert pod.metadata.namespace == "ml"
    assert pod.spec.service_account_name == "trainer"
    assert pod.spec.node_selector == {"accelerator": "nvidia-a100"}
    assert [(t.key, t.operator, t.effect) for t in pod.spec.tolerations] == [
        ("nvidia.com/gpu", "Exists", "NoSchedule")
    ]
    assert [v.name for v in pod.spec.volumes if v.name == "scratch"] == ["scratch"]
    base = pod.spec.containers[0]
    assert base.image == "registry.example/ml:1.4"
    # No shell: the runtime is the command, each option one argument.
    assert base.command == ["python3"]
    assert base.args == [
        "-m", "airflow_ml_provider.runtime", "--spec-env", SPEC_VARIABLE, "/airflow/xcom/return.json"
    ]  # fmt: skip
    assert base.resources.limits == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}
    assert ("scratch", "/scratch") in [(m.name, m.mount_path) for m in base.volume_mounts]
    env = {item.name: item.value for item in base.env}
    in_pod = StepSpec.from_json(env[SPEC_VARIABLE])
    assert in_pod.source_directory == "/app/dags/steps/train"  # the image's copy of the DAG folder
    assert in_pod.work_directory == "/tmp/aml-work"
    assert in_pod.environment == {"AML_PARAMETER_C": "0.5"}
    # The result comes back through the provider's XCom sidecar.
    assert [c.name for c in pod.spec.containers] == ["base", "airflow-xcom-sidecar"]


def test_target_saved_from_the_connection_form_builds_the_same_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The form stores every field as text under extra__mlcomputekubernetes__<field>.
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    form = {f"extra__mlcomputekubernetes__{key}": value for key, value in {
        "queue": "gpu", "image": "registry.example/ml:1.4", "namespace": "ml",
        "cpu": "4", "memory": "16Gi", "gpus": "2", "service_account": "trainer",
        "node_selector": json.dumps(GPU_TARGET.options["node_selector"]),
        "tolerations": json.dumps(GPU_TARGET.options["tolerations"]),
        "volumes": "", "in_cluster": "false", "config_file": str(tmp_path / "kubeconfig"),
    }.items()}  # fmt: skip
    monkeypatch.setenv(
        "AIRFLOW_CONN_GPU_FORM", json.dumps({"conn_type": "mlcomputekubernetes", "extra": form})
    )

    target = ComputeTargetHook("gpu_form").resolve()

    assert (target.kind, target.queue) == ("kubernetes", "gpu")
    assert target.options["node_selector"] == {"accelerator": "nvidia-a100"}
    assert target.options["in_cluster"] is False
    spec = _spec([], [OutputSpec("model", "s3://ml/pipeline-data/model")])
    pod = pod_operator(target, spec, None).build_pod_request_obj()
    assert pod.spec.node_selector == {"accelerator": "nvidia-a100"}
    assert [t.key for t in pod.spec.tolerations] == ["nvidia.com/gpu"]
    assert pod.spec.containers[0].resources.limits == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}


def test_form_field_that_is_not_json_names_the_target_and_field(monkeypatch: pytest.MonkeyPatch):
    extra = {"node_selector": "accelerator=nvidia-a100"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_GPU_BAD", json.dumps({"conn_type": "mlcomputekubernetes", "extra": extra})
    )
    with pytest.raises(
        ComputeTargetError, match='compute target "gpu_bad": field "node_selector" is not valid JSON'
    ):
        ComputeTargetHook("gpu_bad").resolve()


def test_every_declared_kind_has_one_registered_implementation():
    from airflow_ml_provider.compute.kinds import REGISTERED
    from airflow_ml_provider.compute_kinds import KINDS

    assert set(REGISTERED) == set(KINDS)
    for name, declaration in KINDS.items():
        assert kind_of(ComputeTarget(name, name)).declaration is declaration


def test_unregistered_kind_is_refused_with_the_targets_name():
    with pytest.raises(ComputeTargetError, match='compute target "odd": unknown kind "slurm"'):
        kind_of(ComputeTarget("odd", "slurm"))


@pytest.mark.parametrize("name", ["local", "venv", "docker", "kubernetes"])
def test_a_kinds_connection_form_is_derived_from_its_option_declarations(name: str):
    from airflow_ml_provider.get_provider_info import get_provider_info

    kind = kind_of(ComputeTarget(name, name))
    (form,) = [
        c
        for c in get_provider_info()["connection-types"]
        if c["connection-type"] == kind.declaration.conn_type
    ]
    assert form["hook-name"] == kind.declaration.title
    # One field per declared option, in declaration order, and no other kind's.
    assert list(form["conn-fields"]) == [option.name for option in kind.options]
    for option in kind.options:
        field = form["conn-fields"][option.name]
        assert (field["label"], field["description"]) == (option.label, option.description)
        assert field["schema"]["type"] == ["boolean" if option.type == "boolean" else "string", "null"]
    placeholders = {option.name: option.placeholder for option in kind.options if option.placeholder}
    assert form["ui-field-behaviour"]["placeholders"] == placeholders


def test_pods_refuse_local_datastores():
    spec = _spec([InputSpec("features", "file:///data/features", "mount")], [])
    with pytest.raises(ComputeError, match='input "features" is on a local datastore'):
        pod_operator(GPU_TARGET, spec, None)


def test_pods_refuse_a_tracking_store_on_the_workers_disk():
    spec = dataclasses.replace(
        _spec([], [OutputSpec("model", "s3://ml/pipeline-data/model")]),
        environment={"MLFLOW_TRACKING_URI": "sqlite:////srv/airflow/ml/mlflow.db"},
    )
    with pytest.raises(
        ComputeError, match=r"tracking store is on the worker's disk .* mltracking connection"
    ):
        pod_operator(GPU_TARGET, spec, None)


def test_container_mounts_staged_data_limits_gpus_and_network():
    target = ComputeTarget(
        "box", "docker", None, {"image": "ml:1", "memory": "2g", "cpus": "1.5", "gpus": "all"}
    )
    spec = _spec(
        [InputSpec("features", "file:///data/store/features", "mount")],
        [OutputSpec("model", "file:///data/store/pipeline-data/d/r/train/attempt-1/model")],
    )
    read_only, read_write = bind_paths(spec)
    assert "/data/store/features" in read_only
    assert "/opt/airflow/dags" in read_only and "/opt/airflow/dags/steps/train" not in read_only
    assert read_write == ["/data/store/pipeline-data/d/r/train/attempt-1", "/tmp/aml-train-x"]

    config = container_config(target, spec, "ml:1")
    host = config["host_config"]
    assert host["network_mode"] == "none"
    assert host["mem_limit"] == "2g" and host["nano_cpus"] == 1_500_000_000
    assert host["device_requests"][0]["Count"] == -1
    assert host["device_requests"][0]["Capabilities"] == [["gpu"]]
    assert config["command"][:3] == ["python3", "-m", "airflow_ml_provider.runtime"]
    mounts = {m["Target"]: m["ReadOnly"] for m in host["mounts"]}
    assert mounts["/data/store/features"] is True
    assert mounts["/tmp/aml-train-x"] is False


def test_container_reaches_the_steps_tracking_store():
    target = ComputeTarget("box", "docker", None, {"image": "ml:1"})
    output = [OutputSpec("model", "file:///srv/ml/datastores/default/pipeline-data/d/r/train/a/model")]
    embedded = dataclasses.replace(
        _spec([], output), environment={"MLFLOW_TRACKING_URI": "sqlite:////srv/ml/mlflow.db"}
    )
    # The embedded store (database and artifacts under /srv/ml) is mounted read-write; the
    # output folder inside it needs no mount of its own.
    assert bind_paths(embedded)[1] == ["/srv/ml", "/tmp/aml-train-x"]
    assert container_config(target, embedded, "ml:1")["host_config"]["network_mode"] == "none"

    served = dataclasses.replace(embedded, environment={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"})
    assert "/srv/ml" not in bind_paths(served)[1]
    assert container_config(target, served, "ml:1")["host_config"]["network_mode"] == "host"
    bridged = ComputeTarget("box", "docker", None, {"image": "ml:1", "network_mode": "bridge"})
    assert container_config(bridged, served, "ml:1")["host_config"]["network_mode"] == "bridge"


def test_venv_digest_follows_requirements_and_python():
    assert venv_digest(b"humanize\n", "3.11.7") == venv_digest(b"humanize\n", "3.11.7")
    assert venv_digest(b"humanize\n", "3.11.7") != venv_digest(b"humanize>=4\n", "3.11.7")
    assert venv_digest(b"humanize\n", "3.11.7") != venv_digest(b"humanize\n", "3.12.1")


def test_unknown_target_fails_with_a_clear_error():
    with pytest.raises(ComputeTargetError, match='compute target "no_such_target" is not defined'):
        ComputeTargetHook("no_such_target").resolve()


def test_run_task_carries_the_target_queue(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(
        "AIRFLOW_CONN_GPU_POOL",
        json.dumps({"conn_type": "mlcomputedocker", "extra": {"queue": "gpu", "image": "x"}}),
    )
    from airflow.sdk import DAG

    from airflow_ml_provider import PipelineData, PythonScriptStep

    (tmp_path / "train.py").write_text("")
    out = PipelineData("model")
    with DAG("queued", schedule=None) as dag:
        PythonScriptStep(
            name="train", script_name="train.py", source_directory=str(tmp_path), arguments=["--out", out],
            outputs=[out], compute_target="gpu_pool",
        )  # fmt: skip
        PythonScriptStep(
            name="plain",
            script_name="train.py",
            source_directory=str(tmp_path),
            compute_target="no_such_target",
        )
    assert dag.get_task("train.run").queue == "gpu"
    assert dag.get_task("train.reuse").queue != "gpu"  # only the run task needs the GPU worker
    assert dag.get_task("plain.run").queue == dag.get_task("plain.reuse").queue  # unknown: default


def test_cli_validate_reports_an_unknown_compute_target(tmp_path: Path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "dags"
    (folder / "steps").mkdir(parents=True)
    (folder / "steps" / "train.py").write_text("")
    (folder / ".airflowignore").write_text("steps/\n")
    (folder / "targets.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow_ml_provider import PythonScriptStep\n"
        'with DAG("targets", schedule=None):\n'
        '    PythonScriptStep(name="train", script_name="train.py", source_directory="steps",\n'
        '                     compute_target="gpu_cluster")\n'
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow-ml"), "validate", str(folder)],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'error targets: step "train": compute target "gpu_cluster" is not defined' in result.stdout
