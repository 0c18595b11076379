"""The parts of a step's pre-image, each from plain values (no Airflow)."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from airflow_ml_provider.caching.fingerprint import UnfingerprintableError, base_pre_image, digest_of
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.pipeline.arguments import ArgumentToken, render_parameter
from airflow_ml_provider.pipeline.steps import PythonScriptStep
from airflow_ml_provider.runtime.digest import tagged
from airflow_ml_provider.settings import provider_home


def step_part(step: PythonScriptStep) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "name": step.name,
        "version": step.version,
        "script": step.script_name,
        # Where an output is written is part of the result: moved elsewhere, it is made again there.
        "outputs": [
            {"name": o.name, "is_directory": o.is_directory, "datastore": o.datastore or "default"}
            for o in step.outputs
        ],
        "input_modes": {data.name: data.mode for data in step.inputs},
        **_read_as(step),
        **({"azureml_compat": True} if step.azureml_compat else {}),
    }


def _read_as(step: PythonScriptStep) -> dict[str, Any]:
    """How the script is told to read its inputs (a table, by another name), where it is told."""
    read_as = {
        data.name: {"format": data.dataset.to_json() if data.dataset else None, "input_name": data.input_name}
        for data in step.inputs
        if data.dataset is not None or data.input_name is not None
    }
    return {"inputs_read_as": read_as} if read_as else {}


def _placeholder(token: ArgumentToken) -> str:
    if token.kind == "literal":
        return token.value
    return f"${{{token.kind}:{token.value}}}"


def arguments_part(step: PythonScriptStep) -> list[str]:
    """Arguments with parameters and data as placeholders; their values are hashed apart."""
    return [_placeholder(token) for token in step.arguments]


def params_part(step: PythonScriptStep, values: dict[str, Any]) -> dict[str, str]:
    rendered = {name: render_parameter(values[name]) for name in step.parameters}
    for name, token in step.params.items():
        value = values[token.value] if token.kind == "parameter" else token.value
        rendered[f"AML_PARAMETER_{name}"] = render_parameter(value)
    return rendered


@cache
def installed_packages_digest() -> str:
    """Digest of the worker's installed distributions: an upgraded library changes it.

    Reading every distribution's metadata costs a task ~0.1 s, so the digest is remembered on
    disk under a key of every ``*.dist-info`` / ``*.egg-info`` entry on ``sys.path`` with its
    modification time: an install, upgrade or removal adds, renames or rewrites one of them.
    """
    key = digest_of(_distribution_entries())
    remembered = _read_json(_packages_file())
    if remembered.get("key") == key and isinstance(remembered.get("digest"), str):
        return str(remembered["digest"])
    names = sorted(f"{dist.metadata['Name']}=={dist.version}".lower() for dist in metadata.distributions())
    digest = digest_of(names)
    _write_json(_packages_file(), {"key": key, "digest": digest})
    return digest


def _distribution_entries() -> list[tuple[str, str, int]]:
    entries = []
    for folder in sys.path:
        try:
            with os.scandir(folder or ".") as scanned:
                entries += [
                    (folder, entry.name, entry.stat().st_mtime_ns)
                    for entry in scanned
                    if entry.name.endswith((".dist-info", ".egg-info"))
                ]
        except OSError:
            continue  # a zip file or a folder that is gone
    return sorted(entries)


def _packages_file() -> Path:
    return provider_home() / "packages-digest.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Atomically, so parallel tasks read the old or the new file; a read-only home costs a re-read."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        with os.fdopen(handle, "w") as file:
            json.dump(value, file)
        os.replace(temporary, path)
    except OSError:
        pass


def environment_part(
    step: PythonScriptStep, compute_kind: str, identity: dict[str, Any], cache_: StatCache
) -> dict[str, Any]:
    """What every kind records (the worker's Python, requirements, variables, image name), then
    ``identity``: what the step's compute kind adds or overrides (``ComputeKind.environment_identity``)."""
    environment = step.environment
    requirements = environment.requirements_path(step.base_directory) if environment else None
    part: dict[str, Any] = {"compute": compute_kind, "python": platform.python_version()}
    if requirements is not None:
        if not requirements.is_file():
            raise UnfingerprintableError(f"requirements file {requirements} does not exist")
        part["requirements"] = tagged(cache_.digests([requirements])[requirements][1])
    if environment is not None:
        part["variables"] = dict(sorted(environment.variables.items()))
        if environment.image:
            part["image"] = environment.image
    part.update(identity)
    return part


DAG_FOLDER_PREFIX = "dag:"


def module_key(path: str, base_directory: Path) -> str:
    """How a recorded module is named: relative to the DAG file's folder when inside it.

    So a copy of a pipeline elsewhere re-checks its own helper modules, not the original's.
    """
    module = Path(path)
    if module.is_relative_to(base_directory):
        return DAG_FOLDER_PREFIX + module.relative_to(base_directory).as_posix()
    return path


def module_path(key: str, base_directory: Path) -> Path:
    if key.startswith(DAG_FOLDER_PREFIX):
        return base_directory / key[len(DAG_FOLDER_PREFIX) :]
    return Path(key)


def module_digests(keys: list[str], cache_: StatCache, base_directory: Path) -> dict[str, str]:
    """Current digest of each recorded module ('' for one that is gone)."""
    paths = {key: module_path(key, base_directory) for key in keys}
    present = [path for path in paths.values() if path.is_file()]
    found = cache_.digests(present)
    return {key: found[path][1] if path in found else "" for key, path in paths.items()}


def transfer_pre_image(step: Any, inputs: dict[str, str]) -> dict[str, Any]:
    """The pre-image of a ``DataTransferStep``: what it copies (by content), and to where.

    The source is there by its content digest (under the source's data name), so the
    same bytes at the same place are reused; a ``DataReference`` destination is there by
    its place (a copy to another place is another copy); a ``PipelineData`` destination's
    place is chosen per run, so only its name and shape count.
    """
    from airflow_ml_provider import __version__
    from airflow_ml_provider.pipeline.data import PipelineData

    destination, source = step.destination, step.source
    origin = (
        {"pipeline_data": source.name}
        if isinstance(source, PipelineData)
        else {"datastore": source.datastore, "path": source.path_on_datastore}
    )
    if getattr(source, "sql_query", None):
        origin["query"] = source.sql_query
    if isinstance(destination, PipelineData):
        where: dict[str, Any] = {"pipeline_data": destination.name, "datastore": destination.datastore}
    else:
        where = {
            "datastore": destination.datastore,
            "path": destination.path_on_datastore,
            "overwrite": step.overwrite,
        }
    return base_pre_image(
        step={
            "kind": step.kind,
            "name": step.name,
            "version": step.version,
            "source": origin,
            "source_reference_type": step.source_reference_type,
            "destination": where,
            "destination_is_directory": step.destination_is_directory,
            "outputs": [{"name": o.name, "is_directory": o.is_directory} for o in step.outputs],
        },
        code={},
        arguments=[],
        params={},
        inputs=inputs,
        environment={"transfer": __version__},
    )
