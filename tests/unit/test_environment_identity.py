"""The environment part of a step's fingerprint, per compute kind, pinned.

The expected values are today's fingerprints (computed before the compute kinds had one
interface): a change to any of them re-runs every user's cached steps, so it must be
deliberate (and say so), never a side effect.
Machine-dependent values (the worker's Python version, its installed packages) are fixed or
read back; a Docker engine's answer for a tag is stood in for (the real lookup is covered by
tests/integration/test_docker.py): what is pinned is how the part is assembled.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_ml_provider import PythonScriptStep
from airflow_ml_provider.caching.fingerprint import digest_of
from airflow_ml_provider.caching.parts import installed_packages_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.step_kinds.kinds import step_pre_image

WORKER_PYTHON = "3.11.9"
IMAGE_DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[StatCache]:
    cache = StatCache(tmp_path / "stat-cache.db")
    yield cache
    cache.close()


@pytest.fixture(autouse=True)
def targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "python_version", lambda: WORKER_PYTHON)
    monkeypatch.setattr("airflow_ml_provider.compute.docker.image_digest", lambda target, image: IMAGE_DIGEST)
    for name, conn_type, extra in [
        ("pin_venv", "mlcomputevenv", {}),
        ("pin_docker", "mlcomputedocker", {"image": "ml:1"}),
        ("pin_kubernetes", "mlcomputekubernetes", {"image": "ml:2"}),
    ]:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{name.upper()}", json.dumps({"conn_type": conn_type, "extra": extra})
        )


def environment_part(tmp_path: Path, stats: StatCache, target: str, environment: Environment | None) -> Any:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print('train')\n")
    (tmp_path / "requirements.txt").write_text("humanize==4.9.0\n")
    step = PythonScriptStep(
        name="train",
        script_name="train.py",
        source_directory=str(code),
        compute_target=target,
        environment=environment,
        base_directory=str(tmp_path),
    )
    return step_pre_image(step, {}, lambda data: "", stats)["environment"]


FULL = Environment(requirements="requirements.txt", variables={"B": "2", "A": "1"}, image="ml:3")


def stand_in_python(tmp_path: Path, version: str) -> str:
    interpreter = tmp_path / "bin" / "python"
    interpreter.parent.mkdir(exist_ok=True)
    interpreter.write_text(f"#!/bin/sh\necho '{version} (a stand-in interpreter)'\n")
    interpreter.chmod(0o755)
    return str(interpreter)


def test_local(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "local", None)
    assert part.pop("packages") == installed_packages_digest()  # the worker's, read back
    assert part == {"compute": "local", "python": WORKER_PYTHON}
    assert digest_of(part) == "6821604e28aa2e93162f4cac929739c51865ae2cd3fd21fa8f7585fef444d954"


def test_local_with_an_environment(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "local", FULL)
    assert part.pop("packages") == installed_packages_digest()
    assert part == {
        "compute": "local",
        "python": "3.11.9",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {"A": "1", "B": "2"},
        "image": "ml:3",
    }
    assert digest_of(part) == "90adc6a1b7f50d2e3b60e8e7ea5ed75ae4dae8419f5b167b3f4617916b0a8cf9"


def test_venv(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "pin_venv", Environment(requirements="requirements.txt"))
    assert part == {
        "compute": "venv",
        "python": "3.11.9",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {},
    }
    assert digest_of(part) == "9a9e4e7b40ba8bae085c6dbaf380a1078555407e34f9424112b4d458c17ff466"


def test_venv_naming_its_python(tmp_path: Path, stats: StatCache) -> None:
    python = stand_in_python(tmp_path, "3.12.1")
    part = environment_part(
        tmp_path, stats, "pin_venv", Environment(requirements="requirements.txt", python=python)
    )
    assert part == {
        "compute": "venv",
        "python": "3.12.1 (a stand-in interpreter)",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {},
    }
    assert digest_of(part) == "c33335398fe5bfe2c11f426fbe3ba6240a221b77637c8f1feaa2ead29a586511"


def test_venv_naming_a_python_the_worker_lacks(tmp_path: Path, stats: StatCache) -> None:
    environment = Environment(requirements="requirements.txt", python="python-not-here-3.99")
    part = environment_part(tmp_path, stats, "pin_venv", environment)
    assert part == {
        "compute": "venv",
        "python": "python-not-here-3.99 (not on this worker)",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {},
    }
    assert digest_of(part) == "c620da40feb394f59416b8c2afee7f4a2bc518882e323e2626e60e12e4c95ae4"


def test_a_named_python_is_not_part_of_a_local_step(tmp_path: Path, stats: StatCache) -> None:
    python = stand_in_python(tmp_path, "3.12.1")
    part = environment_part(tmp_path, stats, "local", Environment(python=python))
    part.pop("packages")
    assert part == {"compute": "local", "python": "3.11.9", "variables": {}}
    assert digest_of(part) == "3dd37008621e214c3def4323d92d26cc00fd450a4619523a03fb2b463cc3f62f"


def test_docker(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "pin_docker", None)
    assert part == {
        "compute": "docker",
        "python": "3.11.9",
        "image_digest": "sha256:abababababababababababababababababababababababababababababababab",
    }
    assert digest_of(part) == "339912edb1598b86a1f2ddd1779679f3fc5d716e92ff2be0690d19795cb16894"


def test_docker_with_an_environment(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "pin_docker", FULL)
    assert part == {
        "compute": "docker",
        "python": "3.11.9",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {"A": "1", "B": "2"},
        "image": "ml:3",
        "image_digest": "sha256:abababababababababababababababababababababababababababababababab",
    }
    assert digest_of(part) == "27fa927ff9c5b8abdae7618e4b946f0f253a3cc6e2f796c7c7daf77e7a4a498f"


def test_kubernetes(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "pin_kubernetes", None)
    assert part == {"compute": "kubernetes", "python": "3.11.9", "image_digest": "ml:2"}
    assert digest_of(part) == "c95c6f8ee9385331d0070007df08a6db03f6896fe238eb3e61e645a66a02a3af"


def test_kubernetes_with_an_environment(tmp_path: Path, stats: StatCache) -> None:
    part = environment_part(tmp_path, stats, "pin_kubernetes", FULL)
    assert part == {
        "compute": "kubernetes",
        "python": "3.11.9",
        "requirements": "blake3:58a812c32fe3973ee16680992aa2c7efa87b99aa6f76bf823589a290ddfba01b",
        "variables": {"A": "1", "B": "2"},
        "image": "ml:3",
        "image_digest": "ml:3",
    }
    assert digest_of(part) == "7e1e88343073e4c9f47fa06ffe9704fd1fbb8e1612e3681be64b110a51ba211e"
