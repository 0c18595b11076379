"""Inputs made visible to the script; outputs published only after it succeeded."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fsspec
from fsspec.core import url_to_fs

from airflow_ml_provider.runtime.bootstrap import already_read_only, available
from airflow_ml_provider.runtime.digest import ContentDigest, path_digest
from airflow_ml_provider.runtime.publish import free_remote_path, publish_local, renamed_uri
from airflow_ml_provider.runtime.spec import InputSpec, OutputRecord, OutputSpec

Log = Callable[[str], None]


class StagingError(RuntimeError):
    """An input could not be staged or an output could not be published."""


def local_path(uri: str) -> Path | None:
    """The local path behind a ``file://`` URI (or a bare path); None for remote stores."""
    if "://" not in uri:
        return Path(uri)
    protocol, _, rest = uri.partition("://")
    return Path(rest) if protocol in ("file", "local") else None


def filesystem(uri: str, storage_options: dict[str, Any]) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = url_to_fs(uri, **storage_options)
    return fs, path


@cache
def read_only_mounts_available() -> bool:
    """Whether a script's process may mount its inputs read-only for itself on this machine."""
    if sys.platform != "linux":
        return False
    with tempfile.NamedTemporaryFile(prefix="aml-probe-") as probe:
        return available(probe.name)


def _read_only_copy(spec: InputSpec, local: Path, inputs_directory: Path, log: Log) -> str:
    """No private read-only mount here: the script gets a copy, read-only, never the datastore's file."""
    target = inputs_directory / spec.name / local.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if local.is_dir():
        shutil.copytree(local, target, symlinks=True)
        for folder, _, files in os.walk(target):
            for name in files:
                os.chmod(os.path.join(folder, name), 0o444)
    else:
        shutil.copy2(local, target)
        os.chmod(target, 0o444)
    log(f'input "{spec.name}": no read-only mount on this machine; the script reads a copy at {target}')
    return str(target)


def stage_input(spec: InputSpec, inputs_directory: Path, log: Log, read_only: list[str] | None = None) -> str:
    """Return what the script gets for this input: a local path, or the URI itself.

    A mounted input's path is added to ``read_only`` (mounted read-only for the script), or,
    where that cannot be done, the script gets a read-only copy.
    """
    if spec.mode == "direct":
        return spec.uri
    local = local_path(spec.uri)
    if spec.mode == "mount":
        if local is None:
            raise StagingError(
                f'input "{spec.name}": mode "mount" needs a local datastore, but {spec.uri} is '
                'remote. Use mode="download" (as_download()) or "direct" (as_direct()).'
            )
        if not local.exists():
            raise StagingError(f'input "{spec.name}": {spec.uri} does not exist.')
        if read_only is None or already_read_only(str(local)):
            return str(local)
        if read_only_mounts_available():
            read_only.append(str(local))
            return str(local)
        return _read_only_copy(spec, local, inputs_directory, log)
    target = inputs_directory / spec.name
    fs, path = filesystem(spec.uri, spec.storage_options)
    if not fs.exists(path):
        raise StagingError(f'input "{spec.name}": {spec.uri} does not exist.')
    if fs.isdir(path):
        fs.get(path.rstrip("/") + "/", str(target) + "/", recursive=True)
        log(f'input "{spec.name}": downloaded folder {spec.uri} to {target}')
        return str(target)
    target.mkdir(parents=True, exist_ok=True)
    file_target = target / Path(path).name
    fs.get_file(path, str(file_target))
    log(f'input "{spec.name}": downloaded {spec.uri} to {file_target}')
    return str(file_target)


class OutputStaging:
    """A private place per output; ``publish`` moves it to its final URI after success.

    For local datastores the staging folder sits beside the final location, so
    publishing is one rename; nothing at the final location exists before that.
    """

    def __init__(self, spec: OutputSpec, work_directory: Path) -> None:
        self.spec = spec
        final = local_path(spec.uri)
        if final is not None:
            self.root = final.parent / f".staging-{spec.name}-{uuid.uuid4().hex[:12]}"
        else:
            self.root = work_directory / "outputs" / spec.name
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / spec.name
        if spec.is_directory:
            self.path.mkdir()

    def publish(self, log: Log) -> OutputRecord:
        """Move the output to its place; a place already taken is kept and a fresh one used."""
        if not self.path.exists():
            raise StagingError(
                f'output "{self.spec.name}": the script did not write it (expected a '
                f"{'folder' if self.spec.is_directory else 'file'} at {self.path})."
            )
        content: ContentDigest = path_digest(self.path)
        what = f'output "{self.spec.name}"'
        final = local_path(self.spec.uri)
        if final is not None:
            published = publish_local(self.path, final, what=what, log=log)
            shutil.rmtree(self.root, ignore_errors=True)
            uri = renamed_uri(self.spec.uri, final.name, published.name)
        else:
            fs, path = filesystem(self.spec.uri, self.spec.storage_options)
            target = free_remote_path(fs, path, what=what, log=log)
            fs.put(str(self.path), target, recursive=self.spec.is_directory)
            uri = renamed_uri(self.spec.uri, path.rstrip("/").rpartition("/")[2], target.rpartition("/")[2])
        return OutputRecord(uri, content.digest, content.size, content.files)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
