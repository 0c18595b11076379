"""Real services for the compute tests: a private Docker engine and a local test image."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME_IMAGE = "aml-runtime-test:latest"
MLFLOW_IMAGE = "aml-runtime-mlflow-test:latest"
RUNTIME_PACKAGES = ("blake3", "fsspec")

# Python with the runtime's only third-party imports, installed from this machine's
# configured package indexes while the image is built (nothing is pulled).
DOCKERFILE = """\
FROM aml-python-base:bookworm
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/python \\
 && /opt/python/bin/python -m pip install --no-index --no-cache-dir --quiet /tmp/wheels/*.whl \\
 && rm -rf /tmp/wheels
ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
{extra}
"""


@pytest.fixture(scope="session")
def docker_url() -> str:
    """A real Docker engine (dockerd with vfs, no bridge), started by scripts/docker.sh."""
    started = subprocess.run(
        ["bash", str(REPO / "scripts" / "docker.sh"), "start"], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr[-3000:]
    return started.stdout.strip().splitlines()[-1]


def build_image(
    docker_url: str, tag: str, extra: str = "", packages: tuple[str, ...] = RUNTIME_PACKAGES
) -> str:
    """Build ``tag`` on the base image with ``packages`` at the worker's versions (and their
    dependencies), plus ``extra`` Dockerfile lines."""
    import docker

    with tempfile.TemporaryDirectory() as context:
        pins = [f"{name}=={metadata.version(name)}" for name in packages]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
             "--disable-pip-version-check", "-d", f"{context}/wheels", *pins],
            check=True, capture_output=True,
        )  # fmt: skip
        Path(context, "Dockerfile").write_text(DOCKERFILE.format(extra=extra))
        client = docker.APIClient(base_url=docker_url)
        log = list(client.build(path=context, tag=tag, network_mode="none", rm=True, decode=True))
        errors = [item["error"] for item in log if "error" in item]
        assert not errors, errors
        return str(client.inspect_image(tag)["Id"])


@pytest.fixture(scope="session")
def runtime_image(docker_url: str) -> str:
    build_image(docker_url, RUNTIME_IMAGE)
    return RUNTIME_IMAGE


@pytest.fixture(scope="session")
def mlflow_image(docker_url: str) -> str:
    """The runtime image plus the MLflow client (``mlflow-skinny``), for scripts that log."""
    build_image(docker_url, MLFLOW_IMAGE, packages=(*RUNTIME_PACKAGES, "mlflow-skinny"))
    return MLFLOW_IMAGE


@pytest.fixture
def image_builder(docker_url: str, runtime_image: str) -> Callable[[str], str]:
    """Rebuilds the runtime image under the same tag, with extra Dockerfile lines."""
    return lambda extra: build_image(docker_url, runtime_image, extra)
