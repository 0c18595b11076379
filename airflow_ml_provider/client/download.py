"""A step output copied to a local folder, checked against the digest its producer recorded."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_ml_provider.client.api import ClientError

if TYPE_CHECKING:
    from airflow_ml_provider.client.records import OutputData

_CHECKED_ALGORITHM = "blake3:"


def download_output(
    output: OutputData, folder: Path, storage_options: dict[str, Any], *, overwrite: bool
) -> Path:
    """``folder/<output name>``: a copy of the output's file or folder."""
    target = folder / output.name
    if target.exists():
        if not overwrite:
            raise ClientError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    if output.uri.startswith("file://"):
        from airflow_ml_provider.runtime.staging import local_path

        source = local_path(output.uri)
        if source is None or not source.exists():
            raise ClientError(f'output "{output.name}": {output.uri} is not readable from this machine')
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    else:
        _download_remote(output, target, storage_options)
    _check_digest(output, target)
    return target


def _download_remote(output: OutputData, target: Path, storage_options: dict[str, Any]) -> None:
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(output.uri, **storage_options)
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(target), recursive=True)
        else:
            fs.get(path, str(target))
    except (OSError, ValueError, ImportError) as error:
        raise ClientError(
            f'output "{output.name}": cannot download {output.uri} ({type(error).__name__}: {error}). '
            "Pass the datastore's storage options (credentials, endpoint) if it needs them."
        ) from None


def _check_digest(output: OutputData, target: Path) -> None:
    if not output.digest.startswith(_CHECKED_ALGORITHM):
        return
    from airflow_ml_provider.runtime.digest import path_digest

    found = path_digest(target).digest
    if found != output.digest:
        raise ClientError(
            f'output "{output.name}": the downloaded copy at {target} has digest {found[:23]}, '
            f"but its producer recorded {output.digest[:23]}; the data changed since it was written"
        )
