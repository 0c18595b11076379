"""The ``docker`` kind: the runtime as a container's command, through the Docker provider.

Local paths the step needs (its work folder, source folder and DAG folder, local inputs, the
folders its local outputs are published into) are bind-mounted at the same paths inside the
container, so the step spec needs no rewriting and recorded module paths match the worker's.
The provider package is mounted read-only and put on ``PYTHONPATH``; the image needs Python
with ``blake3`` and ``fsspec`` (all the runtime imports besides the standard library), and
``mlflow`` (or ``mlflow-skinny``) when its scripts log to MLflow.

MLflow logging works from inside the container: the step's tracking variables are passed on,
a local tracking store (``sqlite:///...``, ``file:...``, the embedded default) is mounted at
its own path, and a step tracked on a server gets the worker's network (``network_mode``
``host``) unless the target names another network mode.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from airflow.exceptions import AirflowException
from docker.errors import APIError, ImageNotFound
from docker.types import DeviceRequest, Mount

from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.compute.kind import ComputeKind
from airflow_ml_provider.compute_kinds import DOCKER
from airflow_ml_provider.hooks.compute import ComputeTarget, ComputeTargetError
from airflow_ml_provider.hooks.tracking_config import local_store_folder
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.runtime import StepResult, StepSpec
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.staging import local_path

Log = Callable[[str], None]
PACKAGE_MOUNT = "/opt/airflow-ml-provider"
DEFAULT_DOCKER_URL = "unix:///var/run/docker.sock"
STDERR_TAIL_LINES = 30


def docker_url(target: ComputeTarget) -> str:
    """The engine: the target's ``docker_url`` (or connection host), else ``$DOCKER_HOST``."""
    return str(
        target.options.get("docker_url")
        or target.options.get("host")
        or os.environ.get("DOCKER_HOST")
        or DEFAULT_DOCKER_URL
    )


def api_client(target: ComputeTarget) -> Any:
    from airflow.providers.docker.hooks.docker import DockerHook

    return DockerHook(
        docker_conn_id=target.options.get("docker_conn_id"), base_url=docker_url(target)
    ).api_client


def step_image(target: ComputeTarget, image: str | None) -> str:
    """The step's ``Environment(image=...)``, else the target's ``image``."""
    chosen = image or target.options.get("image")
    if not chosen:
        raise ComputeError(
            f'compute target "{target.name}" is a docker target with no image: set "image" in the '
            'connection extra or give the step environment=Environment(image="...").'
        )
    return str(chosen)


def image_digest(target: ComputeTarget, image: str | None) -> str:
    """The content digest the tag points at now (a rebuilt image under the same tag differs)."""
    name = step_image(target, image)
    try:
        return str(api_client(target).inspect_image(name)["Id"])
    except ImageNotFound:
        raise ComputeError(
            f'compute target "{target.name}": image "{name}" is not on the Docker engine at '
            f"{docker_url(target)}; build or pull it there first."
        ) from None


def package_source() -> Path:
    """The folder holding the ``airflow_ml_provider`` package on the worker."""
    return Path(__file__).resolve().parents[2]


def bind_paths(spec: StepSpec) -> tuple[list[str], list[str]]:
    """(read-only, read-write) host paths the container needs, each at the same path inside."""
    read_only = {spec.source_directory, *spec.python_path}
    for item in spec.inputs:
        path = local_path(item.uri)
        if path is not None and item.mode != "direct":
            read_only.add(str(path))
    read_write = {spec.work_directory}
    for output in spec.outputs:
        final = local_path(output.uri)
        if final is not None:
            read_write.add(str(final.parent))
    store = local_store_folder(spec.environment.get("MLFLOW_TRACKING_URI"))
    if store is not None:
        read_write.add(str(store))
    read_write = set(_outermost(read_write, []))
    return _outermost(read_only - read_write, read_write), sorted(read_write)


def network_mode(target: ComputeTarget, spec: StepSpec) -> str:
    """The target's ``network_mode``; else ``host`` for a step tracked on a server, else ``none``."""
    chosen = target.options.get("network_mode")
    if chosen:
        return str(chosen)
    return "host" if tracking_server(spec) else "none"


def tracking_server(spec: StepSpec) -> str | None:
    """The MLflow server the step is tracked on (``http(s)://...``), if any."""
    uri = spec.environment.get("MLFLOW_TRACKING_URI", "")
    return uri if urlparse(uri).scheme in ("http", "https") else None


def _outermost(paths: Iterable[str], covered_by: Iterable[str]) -> list[str]:
    """Paths not inside another listed path (nor inside a read-write one): one mount each."""
    covering = [Path(p) for p in covered_by]
    kept: list[Path] = []
    for path in sorted((Path(p) for p in paths), key=lambda p: len(p.parts)):
        if any(path.is_relative_to(other) for other in [*kept, *covering]):
            continue
        kept.append(path)
    return [str(path) for path in kept]


def container_config(target: ComputeTarget, spec: StepSpec, image: str) -> dict[str, Any]:
    """What the container is made of; decided here without touching the engine."""
    options = target.options
    read_only, read_write = bind_paths(spec)
    mounts = [Mount(PACKAGE_MOUNT, str(package_source()), type="bind", read_only=True)]
    mounts += [Mount(path, path, type="bind", read_only=True) for path in read_only]
    mounts += [Mount(path, path, type="bind", read_only=False) for path in read_write]
    gpus = options.get("gpus")
    device_requests = (
        [DeviceRequest(count=-1 if gpus == "all" else int(gpus), capabilities=[["gpu"]])] if gpus else None
    )
    cpus = options.get("cpus")
    work = Path(spec.work_directory)
    return {
        "image": image,
        "command": [
            str(options.get("python") or "python3"),
            "-m",
            "airflow_ml_provider.runtime",
            str(work / "spec.json"),
            str(work / "result.json"),
        ],
        "environment": {"PYTHONPATH": PACKAGE_MOUNT, "PYTHONUNBUFFERED": "1"},
        "user": str(options.get("user") or f"{os.getuid()}:{os.getgid()}"),
        "working_dir": spec.work_directory,
        "host_config": {
            "mounts": mounts,
            "network_mode": network_mode(target, spec),
            "mem_limit": options.get("memory"),
            "nano_cpus": int(float(cpus) * 1e9) if cpus else None,
            "device_requests": device_requests,
            "shm_size": options.get("shm_size"),
        },
    }


def run_in_container(
    target: ComputeTarget,
    spec: StepSpec,
    image: str | None,
    *,
    info: Log,
    warning: Log,
    stopper: Stopper | None = None,
) -> StepResult:
    """Run the runtime in a container; its stdout/stderr go to the task log as they come."""
    name = step_image(target, image)
    spec = dataclasses.replace(spec, python=str(target.options.get("python") or "python3"))
    work = Path(spec.work_directory)
    work.mkdir(parents=True, exist_ok=True)
    for output in spec.outputs:
        final = local_path(output.uri)
        if final is not None:
            final.parent.mkdir(parents=True, exist_ok=True)
    (work / "spec.json").write_text(spec.to_json())
    config = container_config(target, spec, name)
    tracking_uri = tracking_server(spec)
    if tracking_uri and config["host_config"]["network_mode"] == "none":
        warning(
            f'step "{spec.step}": compute target "{target.name}" has network_mode "none", so MLflow '
            f"calls from the script cannot reach {tracking_uri}; remove network_mode (the worker's "
            "network is used) or name a network that reaches the server."
        )
    client = api_client(target)
    try:
        container = client.create_container(
            image=config["image"],
            command=config["command"],
            environment=config["environment"],
            user=config["user"],
            working_dir=config["working_dir"],
            host_config=client.create_host_config(**config["host_config"]),
            labels={"airflow-ml-provider.step": spec.step},
        )
    except ImageNotFound:
        raise ComputeError(
            f'step "{spec.step}": image "{name}" is not on the Docker engine at {docker_url(target)}.'
        ) from None
    container_id = container["Id"]
    try:
        info(f'step "{spec.step}": container {container_id[:12]} from image {name}')
        if stopper is not None:
            stopper.on_stop(lambda: client.stop(container_id, timeout=10))
        client.start(container_id)
        stderr_tail = _stream(client, container_id, info, warning)
        exit_code = int(client.wait(container_id)["StatusCode"])
    finally:
        try:
            client.remove_container(container_id, force=True)
        except APIError as error:
            warning(f"could not remove container {container_id[:12]}: {error}")
    if exit_code != 0:
        tail = "\n".join(f"    {line}" for line in stderr_tail) or "    (nothing on stderr)"
        raise ComputeError(
            f'step "{spec.step}": the container ({name}) exited with code {exit_code}. '
            f"Last lines of its stderr:\n{tail}"
        )
    return StepResult.from_json((work / "result.json").read_text())


def _stream(client: Any, container_id: str, info: Log, warning: Log) -> list[str]:
    """Log the container's output line by line; return the last lines of its stderr."""
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    pending = {"stdout": b"", "stderr": b""}
    chunks = client.attach(container_id, stdout=True, stderr=True, stream=True, logs=True, demux=True)
    for stdout, stderr in chunks:
        for stream, data in (("stdout", stdout), ("stderr", stderr)):
            if not data:
                continue
            *lines, pending[stream] = (pending[stream] + data).split(b"\n")
            for raw in lines:
                _emit(stream, raw, info, warning, tail)
    for stream, rest in pending.items():
        if rest:
            _emit(stream, rest, info, warning, tail)
    return list(tail)


def _emit(stream: str, raw: bytes, info: Log, warning: Log, tail: deque[str]) -> None:
    line = raw.decode(errors="replace").rstrip("\r")
    if stream == "stdout":
        info(line)
    else:
        warning(line)
        tail.append(line)


class DockerKind(ComputeKind):
    declaration = DOCKER

    def environment_identity(self, target: ComputeTarget, environment: Environment | None) -> dict[str, Any]:
        """The digest the step's image tag points at now: a rebuilt image is another environment."""
        try:
            return {"image_digest": image_digest(target, environment.image if environment else None)}
        except AirflowException as error:
            raise ComputeTargetError(f'compute target "{target.name}": {error}') from None

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
        return run_in_container(target, spec, environment.image, info=info, warning=warning, stopper=stopper)
