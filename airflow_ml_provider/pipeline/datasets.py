"""Azure ML v1 datasets as data references and outputs.

- ``Dataset.File.from_files(path=(datastore, "folder"))`` is a file or folder on a datastore;
  ``Dataset.Tabular.from_delimited_files(...)`` / ``from_parquet_files(...)`` the same, read
  by the script as a table (``run.input_datasets[name].to_pandas_dataframe()``).
- ``.as_named_input(name)``, ``.as_mount()``, ``.as_download()``: the step input, a
  :class:`~airflow_ml_provider.pipeline.data.DataReference` (named ``name``).
- ``path`` may be a ``(datastore, path)`` tuple (or a list holding one), a ``DataPath``,
  a ``DataReference`` or an ``http(s)://`` URL (read from that web server).
- ``OutputFileDatasetConfig(name, destination=(datastore, path))`` is a step output
  (a ``PipelineData`` on that datastore); passed in a later step's arguments, or with
  ``.as_input()`` / ``.read_delimited_files()`` / ``.parse_parquet_files()``, an input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, ClassVar

from airflow_ml_provider.pipeline.compat import ignored, ignored_keywords
from airflow_ml_provider.pipeline.data import (
    DataReference,
    PipelineData,
    TabularFormat,
    _datastore_name,
)
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError

_WEB = re.compile(r"^https?://", re.IGNORECASE)


def _location(path: Any) -> tuple[str, str]:
    """(datastore, path on it) of a v1 dataset path."""
    if isinstance(path, list | tuple) and len(path) == 1 and not isinstance(path[0], str):
        path = path[0]
    if isinstance(path, tuple) and len(path) == 2:
        return _datastore_name(path[0]) or "default", str(path[1] or "")
    if isinstance(path, DataReference):
        return path.datastore, path.path_on_datastore
    if hasattr(path, "path_on_datastore") and hasattr(path, "datastore"):
        return _datastore_name(path.datastore) or "default", str(path.path_on_datastore or "")
    if isinstance(path, str) and _WEB.match(path):
        base, _, name = path.rstrip("/").rpartition("/")
        return base, name
    raise PipelineDefinitionError(
        f"dataset path {path!r} is not a (datastore, path) pair, a DataPath or an http(s) URL.",
        fix='Give path=(datastore, "folder/file.csv"); a list of several paths or a glob is one '
        "folder here: point at the folder that holds the files.",
        argument="path",
    )


@dataclass(frozen=True)
class FileDataset:
    """Files on a datastore, used by a step as an input."""

    datastore: str
    path_on_datastore: str
    name: str | None = None
    tabular: ClassVar[bool] = False

    def _format(self) -> TabularFormat | None:
        return None

    def _reference(self, name: str | None, mode: str | None) -> DataReference:
        data_name = name or self.name or _name_from(self.path_on_datastore)
        reference = DataReference(
            self.datastore,
            self.path_on_datastore,
            name=data_name,
            mode=mode,  # type: ignore[arg-type]
            dataset=self._format(),
            argument_role="input",
        )
        if reference.problem is not None:
            raise reference.problem.located(argument="as_named_input")
        return reference

    def as_named_input(self, name: str) -> DataReference:
        return self._reference(name, None)

    def as_mount(self, path_on_compute: str | None = None) -> DataReference:
        if path_on_compute is not None:
            ignored("Dataset.as_mount", "path_on_compute", "the script gets the path in its arguments.")
        return self._reference(None, "mount")

    def as_download(self, path_on_compute: str | None = None) -> DataReference:
        if path_on_compute is not None:
            ignored("Dataset.as_download", "path_on_compute", "the script gets the path in its arguments.")
        return self._reference(None, "download")

    def as_data_input(self) -> DataReference:
        """A dataset given as a step input without ``as_named_input``."""
        return self._reference(None, None)

    def register(
        self,
        workspace: Any,
        name: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        create_new_version: bool = False,
    ) -> FileDataset:
        """The dataset under ``name`` (the name its steps see it by); there is no dataset registry."""
        ignored(
            "Dataset.register",
            "workspace",
            "there is no dataset registry: the dataset is its datastore path, named "
            f'"{name}" for the steps that read it.',
        )
        return type(self)(self.datastore, self.path_on_datastore, name, **self._options())

    def _options(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class TabularDataset(FileDataset):
    """Delimited or Parquet files read as one table."""

    kind: str = "delimited"
    separator: str = ","
    header: bool = True
    tabular: ClassVar[bool] = True

    def _format(self) -> TabularFormat:
        return TabularFormat(self.kind, self.separator, self.header)  # type: ignore[arg-type]

    def _options(self) -> dict[str, Any]:
        return {"kind": self.kind, "separator": self.separator, "header": self.header}


class _FileFactory:
    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None) -> FileDataset:
        ignored_keywords(
            "Dataset.File.from_files",
            {"partition_format": partition_format},
            {"partition_format": "the files are read as they are laid out."},
        )
        return FileDataset(*_location(path))


class _TabularFactory:
    @staticmethod
    def from_delimited_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        infer_column_types: bool = True,
        set_column_types: Any = None,
        separator: str = ",",
        header: Any = True,
        partition_format: str | None = None,
        support_multi_line: bool = False,
        empty_as_string: bool = False,
        encoding: str = "utf8",
    ) -> TabularDataset:
        ignored_keywords(
            "Dataset.Tabular.from_delimited_files",
            {"set_column_types": set_column_types, "partition_format": partition_format},
            {
                "set_column_types": "pandas infers the column types; convert them in the script.",
                "partition_format": "the files are read as they are laid out.",
            },
        )
        has_header = header not in (False, "NO_HEADER", "no_header")
        return TabularDataset(*_location(path), kind="delimited", separator=separator, header=has_header)

    @staticmethod
    def from_parquet_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        set_column_types: Any = None,
        partition_format: str | None = None,
    ) -> TabularDataset:
        return TabularDataset(*_location(path), kind="parquet")


class Dataset:
    """Azure ML v1's ``Dataset`` factories: ``Dataset.File`` and ``Dataset.Tabular``."""

    File = _FileFactory
    Tabular = _TabularFactory

    @staticmethod
    def get_by_name(workspace: Any, name: str, version: str = "latest") -> FileDataset:
        raise PipelineDefinitionError(
            f'there is no dataset registry to look "{name}" up in.',
            fix='Build the dataset from its place: Dataset.File.from_files(path=(datastore, "path")).',
            argument="name",
        )


class OutputFileDatasetConfig(PipelineData):
    """A step's output, written under ``destination``'s datastore (its path there is chosen per
    run, so a run never overwrites another's)."""

    def __init__(
        self,
        name: str | None = None,
        destination: Any = None,
        source: str | None = None,
        partition_format: str | None = None,
        *,
        datastore: str | None = None,
        is_directory: bool = True,
        mode: Any = None,
        argument_role: str | None = "output",
        **data_fields: Any,
    ) -> None:
        ignored_keywords(
            "OutputFileDatasetConfig",
            {"source": source, "partition_format": partition_format},
            {
                "source": "the script writes into the folder it is given.",
                "partition_format": "the files are kept as the script wrote them.",
            },
        )
        if destination is not None:
            datastore, path = _location(destination)
            if path:
                ignored(
                    "OutputFileDatasetConfig",
                    "destination",
                    f'outputs are written per run on datastore "{datastore}", not at "{path}", so a run '
                    "never overwrites another's; copy it there with a DataTransferStep if needed.",
                )
        super().__init__(
            name or "output",
            datastore=datastore,
            is_directory=is_directory,
            mode=mode,
            argument_role=argument_role,
            **data_fields,
        )

    def as_mount(self, input_name: str | None = None) -> Any:
        """On an output: how it is written (locally, then published); it stays the output."""
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> OutputFileDatasetConfig:
        return self

    def read_delimited_files(
        self, include_path: bool = False, separator: str = ",", **ignored_options: Any
    ) -> PipelineData:
        return self.parse_delimited_files(separator=separator, **ignored_options)

    def register_on_complete(self, name: str, description: str | None = None, tags: Any = None) -> Any:
        ignored(
            "OutputFileDatasetConfig.register_on_complete",
            "name",
            "there is no dataset registry: a later step reads the output through .as_input().",
        )
        return self


def described_inputs(inputs: list[Any]) -> dict[str, dict[str, Any]]:
    """What a script's ``run.input_datasets`` holds: each input by the name the script sees
    it by (``input_name``, else its own), with how to read it (a table, or files)."""
    described: dict[str, dict[str, Any]] = {}
    for data in inputs:
        entry = {"data": data.name, "format": data.dataset.to_json() if data.dataset else None}
        described[data.input_name or data.name] = entry
        described.setdefault(data.name, entry)
    return described


def _name_from(path: str) -> str:
    stem = PurePosixPath(path).name if path else "dataset"
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:100] or "dataset"
