"""``Datastore("name")``: put raw data on a datastore, as Azure ML's Datastore does."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from airflow_ml_provider.hooks.datastore import DEFAULT_DATASTORE, DatastoreHook, ResolvedDatastore
from airflow_ml_provider.pipeline.data import DataReference


class Datastore:
    """A named datastore; its location comes from the Airflow connection of that name.

    Azure ML v1's forms work too: ``Datastore(workspace, "name")``,
    ``Datastore.get(workspace, "name")``, ``Datastore.get_default(workspace)``. Creating the
    connection only reads its name; it is resolved when data moves.
    """

    def __init__(self, workspace_or_name: Any = DEFAULT_DATASTORE, name: str | None = None) -> None:
        if name is None and isinstance(workspace_or_name, str):
            name = workspace_or_name
        self.name = name or DEFAULT_DATASTORE
        self.datastore_type = "mldatastore"

    @classmethod
    def get(cls, workspace: Any, datastore_name: str) -> Datastore:
        return cls(workspace, datastore_name)

    @classmethod
    def get_default(cls, workspace: Any = None) -> Datastore:
        return cls(workspace, DEFAULT_DATASTORE)

    def resolve(self) -> ResolvedDatastore:
        return DatastoreHook(self.name).resolve()

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataReference:
        """A file or folder on this datastore, for a step to read."""
        return DataReference(self.name, path or "", name=data_reference_name)

    def as_mount(self) -> DataReference:
        return self.path().as_mount()

    def as_download(self, path_on_compute: str | None = None) -> DataReference:
        return self.path().as_download(path_on_compute=path_on_compute)

    def download(
        self,
        target_path: str | os.PathLike[str],
        prefix: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> int:
        """Copy what is under ``prefix`` (everything without one) into ``target_path``; returns
        the number of files copied. Files already there are kept unless ``overwrite``."""
        resolved = self.resolve()
        fs, root = url_to_fs(resolved.uri(""), **resolved.storage_options)
        root = root.rstrip("/")
        start = f"{root}/{prefix.strip('/')}" if prefix else root
        if fs.isfile(start):
            found = [start]
        else:
            found = sorted(
                key for key, info in fs.find(start, detail=True).items() if info["type"] != "directory"
            )
        copied = 0
        for key in found:
            local = Path(target_path) / key[len(root) + 1 :]
            if local.exists() and not overwrite:
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(key, str(local))
            copied += 1
            if show_progress:
                print(f"downloaded {key[len(root) + 1 :]} -> {local}")
        return copied

    def upload_files(
        self,
        files: Iterable[str | os.PathLike[str]],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
        *,
        relative_root: str | os.PathLike[str] | None = None,
    ) -> DataReference:
        """Copy local files into ``target_path``; existing files are kept unless ``overwrite``.

        With ``relative_root``, each file keeps its path below that folder (else its name).
        """
        resolved = self.resolve()
        fs, base = url_to_fs(resolved.uri(target_path or ""), **resolved.storage_options)
        fs.makedirs(base, exist_ok=True)
        for file in files:
            source = Path(file)
            if not source.is_file():
                raise FileNotFoundError(f'datastore "{self.name}": {source} is not a file to upload.')
            below = source.resolve().relative_to(Path(relative_root).resolve()) if relative_root else None
            destination = f"{base.rstrip('/')}/{below.as_posix() if below else source.name}"
            if below is not None:
                fs.makedirs(destination.rsplit("/", 1)[0], exist_ok=True)
            if not overwrite and fs.exists(destination):
                if show_progress:
                    print(f"kept {destination} (exists; pass overwrite=True to replace)")
                continue
            fs.put_file(str(source), destination)
            if show_progress:
                print(f"uploaded {source} -> {destination}")
        return DataReference(self.name, target_path or "")

    def upload(
        self,
        src_dir: str | os.PathLike[str],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Copy a local folder (recursively) into ``target_path``."""
        source = Path(src_dir)
        if not source.is_dir():
            raise NotADirectoryError(f'datastore "{self.name}": {source} is not a folder to upload.')
        by_folder: dict[str, list[Path]] = {}
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            relative_parent = file.parent.relative_to(source).as_posix()
            folder = "/".join(p for p in (target_path or "", relative_parent) if p not in ("", "."))
            by_folder.setdefault(folder, []).append(file)
        for folder, files in by_folder.items():
            self.upload_files(files, folder, overwrite=overwrite, show_progress=show_progress)
        return DataReference(self.name, target_path or "")
