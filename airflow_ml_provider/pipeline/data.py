"""The data a pipeline is wired by: data references, pipeline data and parameters.

Plain immutable values; nothing here touches storage. Where the data lives is decided
at run time by the step's run task. A value that is wrong keeps its ``problem``, raised
by the step that uses it, so the error can name the DAG, the step and the argument.
"""

from __future__ import annotations

import dataclasses
import re
import weakref
from dataclasses import KW_ONLY, InitVar, dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal, Protocol, cast

from airflow_ml_provider.pipeline.compat import ignored
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


class Producers:
    """The steps that declared a PipelineData (or a copy of it, ``as_mount()``...) as an output.

    Shared by a PipelineData and its copies, so that a pipeline given only its last step
    finds the steps before it (``resolve_closure``). Steps are held weakly: a step nobody
    keeps is in no pipeline.
    """

    def __init__(self) -> None:
        self._steps: list[weakref.ref[Any]] = []

    def add(self, step: Any) -> None:
        if all(ref() is not step for ref in self._steps):
            self._steps.append(weakref.ref(step))

    def steps(self) -> list[Any]:
        return [step for step in (ref() for ref in self._steps) if step is not None]

    def __deepcopy__(self, memo: dict[int, Any]) -> Producers:
        return self


@dataclass(frozen=True)
class TabularFormat:
    """How a script reads tabular data through ``run.input_datasets[name].to_pandas_dataframe()``."""

    kind: Literal["delimited", "parquet"] = "delimited"
    separator: str = ","
    header: bool = True

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _ModeMixin:
    """Azure ML's ``as_download()`` / ``as_mount()`` / ``as_direct()`` on inputs.

    ``input_name`` is the name the script sees the input by (``run.input_datasets[...]``,
    ``$AZUREML_DATAREFERENCE_<input_name>``); the data keeps its own name in the pipeline.
    ``path_on_compute`` and ``overwrite`` are Azure ML v1 arguments with no use here: the
    script gets the input's path in its arguments.
    """

    mode: str | None

    def as_download(
        self, input_name: str | None = None, path_on_compute: str | None = None, overwrite: bool | None = None
    ) -> Any:
        return self._as_input("download", input_name, path_on_compute)

    def as_mount(self, input_name: str | None = None) -> Any:
        return self._as_input("mount", input_name, None)

    def as_direct(self, input_name: str | None = None) -> Any:
        return self._as_input("direct", input_name, None)

    def as_named_input(self, name: str) -> Any:
        return self._derive(input_name=name, argument_role="input")

    def _as_input(self, mode: str, input_name: str | None, path_on_compute: str | None) -> Any:
        if path_on_compute is not None:
            ignored(type(self).__name__, "path_on_compute", "the script gets the path in its arguments.")
        changes: dict[str, Any] = {"mode": mode, "argument_role": "input"}
        if input_name is not None:
            changes["input_name"] = input_name
        return self._derive(**changes)

    def _derive(self, **changes: Any) -> Any:
        """A copy with ``changes`` that is still the same data (same producers)."""
        copy = dataclasses.replace(self, **changes)  # type: ignore[type-var]
        if hasattr(self, "producers"):
            object.__setattr__(copy, "producers", self.producers)
        return copy


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
    overwrite: bool = False
    dataset: TabularFormat | None = None
    input_name: str | None = field(default=None, compare=False)
    argument_role: str | None = field(default=None, compare=False, repr=False)
    problem: PipelineDefinitionError | None = field(default=None, compare=False, repr=False, init=False)

    def __init__(
        self,
        datastore: str | _NamedDatastore = DEFAULT_DATASTORE,
        path_on_datastore: str | None = "",
        name: str | None = None,
        mode: InputMode | None = None,
        *,
        data_reference_name: str | None = None,
        path_on_compute: str | None = None,
        overwrite: bool = False,
        dataset: TabularFormat | None = None,
        input_name: str | None = None,
        argument_role: str | None = None,
    ) -> None:
        if path_on_compute is not None:
            ignored("DataReference", "path_on_compute", "the script gets the data's path in its arguments.")
        problem = None
        path = str(path_on_datastore or "")
        ref_name = name or data_reference_name or "data"
        try:
            path = _clean_datastore_path(path_on_datastore or "")
            ref_name = name or data_reference_name or _name_from_path(path)
            check_name(ref_name, what="data reference name", step=None, argument="name")
            _check_mode(mode, ref_name)
            if input_name is not None:
                check_name(input_name, what="input name", step=None, argument="input_name")
        except PipelineDefinitionError as error:
            problem = error
        object.__setattr__(self, "problem", problem)
        object.__setattr__(self, "datastore", _datastore_name(datastore) or DEFAULT_DATASTORE)
        object.__setattr__(self, "path_on_datastore", path)
        object.__setattr__(self, "name", ref_name)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "overwrite", bool(overwrite))
        object.__setattr__(self, "dataset", dataset)
        object.__setattr__(self, "input_name", input_name)
        object.__setattr__(self, "argument_role", argument_role)

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataReference:
        """A file or folder under this one, as Azure ML v1's ``DataReference.path``."""
        below = "/".join(part for part in (self.path_on_datastore, path or "") if part)
        return DataReference(self.datastore, below, name=data_reference_name, mode=self.mode)

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
    _: KW_ONLY
    dataset: TabularFormat | None = None
    input_name: str | None = field(default=None, compare=False)
    argument_role: str | None = field(default=None, compare=False, repr=False)
    output_name: InitVar[str | None] = None
    output_mode: InitVar[str | None] = None
    output_path_on_compute: InitVar[str | None] = None
    output_overwrite: InitVar[bool | None] = None
    data_type: InitVar[str | None] = None
    pipeline_output_name: InitVar[str | None] = None
    training_output: InitVar[Any] = None
    problem: PipelineDefinitionError | None = field(default=None, compare=False, repr=False, init=False)
    producers: Producers = field(default_factory=Producers, compare=False, repr=False, init=False)

    def __post_init__(
        self,
        output_name: str | None,
        output_mode: str | None,
        output_path_on_compute: str | None,
        output_overwrite: bool | None,
        data_type: str | None,
        pipeline_output_name: str | None,
        training_output: Any,
    ) -> None:
        object.__setattr__(self, "datastore", _datastore_name(self.datastore))
        _v1_output_arguments(
            type(self).__name__,
            self.name,
            output_name=output_name,
            output_mode=output_mode,
            output_path_on_compute=output_path_on_compute,
            data_type=data_type,
            pipeline_output_name=pipeline_output_name,
            training_output=training_output,
        )
        try:
            check_name(self.name, what="PipelineData name", step=None, argument="name")
            _check_mode(self.mode, self.name)
            if self.input_name is not None:
                check_name(self.input_name, what="input name", step=None, argument="input_name")
            _check_asset(self.asset, self.name)
        except PipelineDefinitionError as error:
            object.__setattr__(self, "problem", error)

    def as_dataset(self) -> PipelineData:
        """Azure ML v1's ``PipelineData.as_dataset()``: the same data (read it with
        ``parse_delimited_files()`` / ``parse_parquet_files()`` where it is an input)."""
        return self

    def as_input(self, name: str | None = None, input_name: str | None = None) -> PipelineData:
        """This data as an input, seen by the script as ``name`` (``input_name``) if given."""
        changes: dict[str, Any] = {"argument_role": "input"}
        if (name or input_name) is not None:
            changes["input_name"] = name or input_name
        return cast(PipelineData, self._derive(**changes))

    def parse_delimited_files(
        self, separator: str = ",", header: bool = True, **ignored_options: Any
    ) -> PipelineData:
        """Read as a table of delimited text, where this data is an input."""
        _ignored_read_options(type(self).__name__, "parse_delimited_files", ignored_options)
        tabular = TabularFormat("delimited", separator, bool(header))
        return cast(PipelineData, self._derive(dataset=tabular, argument_role="input"))

    def parse_parquet_files(self, **ignored_options: Any) -> PipelineData:
        """Read as a table of Parquet files, where this data is an input."""
        _ignored_read_options(type(self).__name__, "parse_parquet_files", ignored_options)
        return cast(PipelineData, self._derive(dataset=TabularFormat("parquet"), argument_role="input"))

    def __str__(self) -> str:
        return f"$AML_PIPELINEDATA_{self.name}"


def _v1_output_arguments(owner: str, name: str, **given: Any) -> None:
    """PipelineData arguments of Azure ML v1 that change nothing here, each with its reason."""
    if given.get("output_name") not in (None, name):
        ignored(owner, "output_name", f'outputs are named by the data\'s name here ("{name}").')
    if given.get("output_mode") not in (None, "mount", "upload"):
        ignored(owner, "output_mode", "outputs are written locally and published when the step succeeded.")
    reasons = {
        "output_path_on_compute": "the script gets the output's path in its arguments.",
        "data_type": "data has no type here; its bytes are what steps read.",
        "pipeline_output_name": "a run's outputs are listed by step and data name.",
        "training_output": "AutoML and HyperDrive steps do not exist here.",
    }
    for argument, reason in reasons.items():
        if given.get(argument) is not None:
            ignored(owner, argument, reason)


def _ignored_read_options(owner: str, method: str, options: dict[str, Any]) -> None:
    for option, value in options.items():
        if value is not None:
            ignored(f"{owner}.{method}", option, "the script reads the files with pandas defaults.")


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
