"""``Datastore("name")``: put raw data on a datastore, as Azure ML's Datastore does."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fsspec.core import url_to_fs

from airflow_ml_provider.hooks.datastore import DEFAULT_DATASTORE, DatastoreHook, ResolvedDatastore
from airflow_ml_provider.pipeline.data import DataReference


class Datastore:
    """A named datastore; its location comes from the Airflow connection of that name."""

    def __init__(self, name: str = DEFAULT_DATASTORE) -> None:
        self.name = name

    def resolve(self) -> ResolvedDatastore:
        return DatastoreHook(self.name).resolve()

    def upload_files(
        self,
        files: Iterable[str | os.PathLike[str]],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Copy local files into ``target_path``; existing files are kept unless ``overwrite``."""
        resolved = self.resolve()
        fs, base = url_to_fs(resolved.uri(target_path or ""), **resolved.storage_options)
        fs.makedirs(base, exist_ok=True)
        for file in files:
            source = Path(file)
            if not source.is_file():
                raise FileNotFoundError(f'datastore "{self.name}": {source} is not a file to upload.')
            destination = f"{base.rstrip('/')}/{source.name}"
            if not overwrite and fs.exists(destination):
                if show_progress:
                    print(f"kept {destination} (exists; pass overwrite=True to replace)")
                continue
            fs.put_file(str(source), destination)
            if show_progress:
                print(f"uploaded {source} -> {resolved.uri(target_path or '')}/{source.name}")
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
