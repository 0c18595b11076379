"""The ``venv`` kind: the runtime in the worker, the script in a virtualenv of its requirements.

One virtualenv per content digest (requirements contents + Python version), under
``$AIRFLOW_HOME/ml/envs/<digest>``. It is built under a file lock (parallel steps build it
once) in a temporary folder, then renamed into place: a folder named by its digest is
always complete, a failed build leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_ml_provider.compute.errors import ComputeError
from airflow_ml_provider.compute.kind import ComputeKind
from airflow_ml_provider.compute_kinds import VENV
from airflow_ml_provider.hooks.compute import ComputeTarget
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.runtime import StepResult, StepSpec, run_step
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.settings import provider_home

Log = Callable[[str], None]
BUILD_OUTPUT_TAIL = 30


def envs_root(target: ComputeTarget) -> Path:
    return Path(target.options.get("envs_root") or provider_home() / "envs")


def base_interpreter(python: str | None) -> str:
    """The interpreter the virtualenv is made from: ``Environment(python=...)`` or the worker's."""
    if python is None:
        return sys.executable
    found = shutil.which(python)
    if found is None:
        raise ComputeError(f'Environment(python="{python}"): no such interpreter on this worker.')
    return found


def interpreter_version(python: str) -> str:
    if python == sys.executable:
        return sys.version
    return subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout.strip()


def venv_digest(requirements: bytes, python_version: str) -> str:
    """What names a virtualenv: its requirements' contents and the Python it is built from."""
    hasher = hashlib.sha256()
    for part in (b"aml-venv-1", python_version.encode(), requirements):
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()[:24]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(requirements: Path, python: str | None, root: Path, *, info: Log) -> Path:
    """The virtualenv for these requirements: reused when it exists, else built once."""
    if not requirements.is_file():
        raise ComputeError(f"requirements file {requirements} does not exist.")
    interpreter = base_interpreter(python)
    digest = venv_digest(requirements.read_bytes(), interpreter_version(interpreter))
    final = root / digest
    if venv_python(final).exists():
        info(f"reusing venv {digest} ({final})")
        return final
    with _locked(root / f"{digest}.lock"):
        if venv_python(final).exists():
            info(f"reusing venv {digest} ({final}), built by another step meanwhile")
            return final
        started = time.monotonic()
        info(f"building venv {digest} from {requirements} ...")
        building = Path(tempfile.mkdtemp(prefix=f".build-{digest}-", dir=root))
        try:
            _build(building, final, interpreter, requirements)
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        info(f"built venv {digest} in {time.monotonic() - started:.1f} s ({final})")
        return final


def _build(building: Path, final: Path, interpreter: str, requirements: Path) -> None:
    # The worker's pip installs into the new venv (``--python``), so the venv needs no pip of
    # its own; pip reads this machine's configured indexes (pip.conf, PIP_* variables).
    # Bytecode is compiled on first import, from the final location.
    commands = [
        [interpreter, "-m", "venv", "--without-pip", str(building)],
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv_python(building)),
            "install",
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
            "--requirement",
            str(requirements),
        ],
    ]
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, cwd=requirements.parent, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-BUILD_OUTPUT_TAIL:])
            raise ComputeError(
                f"building the virtualenv for {requirements} failed ({command[2]} {command[3]}, "
                f"exit code {done.returncode}):\n{tail}"
            )
    _relocate_scripts(building, final)


def _relocate_scripts(building: Path, final: Path) -> None:
    """Console scripts name their interpreter by path: point them at the final location."""
    old, new = str(building).encode(), str(final).encode()
    for script in (building / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        content = script.read_bytes()
        if content.startswith(b"#!") and old in content:
            script.write_bytes(content.replace(old, new))
    config = building / "pyvenv.cfg"
    config.write_bytes(config.read_bytes().replace(old, new))


def run_in_venv(
    target: ComputeTarget,
    spec: StepSpec,
    requirements: Path | None,
    python: str | None,
    *,
    info: Log,
    warning: Log,
    stopper: Stopper | None = None,
) -> StepResult:
    if requirements is None:
        raise ComputeError(
            f'step "{spec.step}": compute target "{target.name}" is a venv target, but the step has no '
            'requirements. Give environment=Environment(requirements="requirements.txt").'
        )
    venv = ensure_venv(requirements, python, envs_root(target), info=info)
    venv_spec = dataclasses.replace(spec, python=str(venv_python(venv)))
    return run_step(venv_spec, info=info, warning=warning, stopper=stopper)


class VenvKind(ComputeKind):
    declaration = VENV

    def environment_identity(self, target: ComputeTarget, environment: Environment | None) -> dict[str, Any]:
        """The version of the interpreter ``Environment(python=...)`` names: the virtualenv is
        made from it. Without one the worker's own interpreter is recorded, as for every kind;
        a named interpreter this worker lacks is fingerprinted by its name."""
        python = environment.python if environment else None
        if not python:
            return {}
        try:
            return {"python": interpreter_version(base_interpreter(python))}
        except (ComputeError, OSError, subprocess.CalledProcessError):
            return {"python": f"{python} (not on this worker)"}

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
        requirements = environment.requirements_path(base_directory)
        return run_in_venv(
            target, spec, requirements, environment.python, info=info, warning=warning, stopper=stopper
        )
