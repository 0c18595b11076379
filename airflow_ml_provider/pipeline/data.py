"""The data a pipeline is wired by: data references, pipeline data and parameters.

Plain immutable values; nothing here touches storage. Where the data lives is decided
at run time by the step's run task. A value that is wrong keeps its ``problem``, raised
by the step that uses it, so the error can name the DAG, the step and the argument.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal, Protocol

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name

InputMode = Literal["download", "mount", "direct"]
INPUT_MODES: tuple[str, ...] = ("download", "mount", "direct")
DEFAULT_DATASTORE = "default"


class _NamedDatastore(Protocol):
    name: str


def _datastore_name(datastore: str | _NamedDatastore | None) -> str | None:
    if datastore is None or isinstance(datastore, str):
        return datastore
    return datastore.name


def _check_mode(mode: str | None, name: str) -> None:
    if mode is not None and mode not in INPUT_MODES:
        raise PipelineDefinitionError(
            f'mode {mode!r} of data "{name}" is not one of {", ".join(INPUT_MODES)}.',
            fix='Use mode="download" (copy to local disk), "mount" (read in place) '
            'or "direct" (pass the URI).',
            argument="mode",
        )


class _ModeMixin:
    """Azure ML's ``as_download()`` / ``as_mount()`` / ``as_direct()`` on inputs."""

    mode: str | None

    def as_download(self) -> Any:
        return dataclasses.replace(self, mode="download")  # type: ignore[type-var]

    def as_mount(self) -> Any:
        return dataclasses.replace(self, mode="mount")  # type: ignore[type-var]

    def as_direct(self) -> Any:
        return dataclasses.replace(self, mode="direct")  # type: ignore[type-var]


@dataclass(frozen=True, init=False)
class DataReference(_ModeMixin):
    """Data that exists before the pipeline runs: a file or folder on a datastore.

    ``mode`` says how the step sees it: ``download`` (copied to local disk), ``mount``
    (read in place, local datastores) or ``direct`` (the URI as a string). Left out, it
    is ``mount`` where the datastore is local and ``download`` otherwise.
    """

    datastore: str
    path_on_datastore: str
    name: str
    mode: InputMode | None
    problem: PipelineDefinitionError | None = field(default=None, compare=False, repr=False, init=False)

    def __init__(
        self,
        datastore: str | _NamedDatastore = DEFAULT_DATASTORE,
        path_on_datastore: str = "",
        name: str | None = None,
        mode: InputMode | None = None,
        *,
        data_reference_name: str | None = None,
    ) -> None:
        problem = None
        path = str(path_on_datastore)
        ref_name = name or data_reference_name or "data"
        try:
            path = _clean_datastore_path(path_on_datastore)
            ref_name = name or data_reference_name or _name_from_path(path)
            check_name(ref_name, what="data reference name", step=None, argument="name")
            _check_mode(mode, ref_name)
        except PipelineDefinitionError as error:
            problem = error
        object.__setattr__(self, "problem", problem)
        object.__setattr__(self, "datastore", _datastore_name(datastore) or DEFAULT_DATASTORE)
        object.__setattr__(self, "path_on_datastore", path)
        object.__setattr__(self, "name", ref_name)
        object.__setattr__(self, "mode", mode)

    def __str__(self) -> str:
        return f"$AML_DATAREFERENCE_{self.name}"


@dataclass(frozen=True)
class PipelineData(_ModeMixin):
    """Intermediate data: written by one step, read by the steps after it.

    Its location is chosen at run time, per run and step, under ``datastore``
    (the default datastore when left out).
    """

    name: str
    datastore: str | None = None
    is_directory: bool = True
    mode: InputMode | None = None
    # An Airflow Asset updated each time a step run writes this output: True names it
    # "<dag_id>/<name>", a string names it so. Reused outputs update nothing.
    asset: bool | str = False
    problem: PipelineDefinitionError | None = field(default=None, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datastore", _datastore_name(self.datastore))
        try:
            check_name(self.name, what="PipelineData name", step=None, argument="name")
            _check_mode(self.mode, self.name)
            _check_asset(self.asset, self.name)
        except PipelineDefinitionError as error:
            object.__setattr__(self, "problem", error)

    def __str__(self) -> str:
        return f"$AML_PIPELINEDATA_{self.name}"


@dataclass(frozen=True)
class PipelineParameter:
    """A value chosen per run: a DAG ``Param``, rendered into the step's arguments."""

    name: str
    default_value: Any = None

    def __str__(self) -> str:
        return f"$AML_PARAMETER_{self.name}"


DataInput = DataReference | PipelineData


def _check_asset(asset: object, name: str) -> None:
    if isinstance(asset, bool) or (isinstance(asset, str) and asset.strip() and len(asset) <= 1500):
        return
    raise PipelineDefinitionError(
        f"PipelineData {name!r}: asset must be True, False or an asset name, not {asset!r}.",
        fix='Write asset=True (the asset is named "<dag_id>/<output>") or asset="a name".',
        argument="asset",
    )


def _clean_datastore_path(path: str) -> str:
    if not isinstance(path, str):
        raise PipelineDefinitionError(
            f"path_on_datastore must be a string, got {type(path).__name__}.",
            fix='Give a path relative to the datastore\'s root, such as "raw/data.csv".',
            argument="path_on_datastore",
        )
    parts = PurePosixPath(path.replace("\\", "/")).parts if path else ()
    if path.startswith("/") or ".." in parts:
        raise PipelineDefinitionError(
            f"path_on_datastore {path!r} leaves the datastore.",
            fix="Give a path relative to the datastore's root, without '..'.",
            argument="path_on_datastore",
        )
    return "/".join(p for p in parts if p not in ("", "."))


def _name_from_path(path: str) -> str:
    stem = PurePosixPath(path).name if path else "datastore_root"
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:100] or "data"
