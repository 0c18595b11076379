"""Data whose place is chosen per run: ``DataPath`` as a ``PipelineParameter``.

``(PipelineParameter("input_datapath", default_value=DataPath(datastore, "x")),
DataPathComputeBinding(mode="mount"))`` is an input whose datastore and path are a run
parameter: a DAG Param of type object, ``{"datastore": ..., "path_on_datastore": ...}``,
in the trigger form and the REST conf (a plain string is a path on the default's
datastore). Its content digest, not its path, decides reuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_ml_provider.pipeline.compat import ignored
from airflow_ml_provider.pipeline.data import DataReference, PipelineParameter, _datastore_name
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError


@dataclass(frozen=True, init=False)
class DataPath:
    """A file or folder on a datastore, chosen when a run starts."""

    datastore: str
    path_on_datastore: str
    name: str | None

    def __init__(
        self, datastore: Any = None, path_on_datastore: str | None = None, name: str | None = None
    ) -> None:
        object.__setattr__(self, "datastore", _datastore_name(datastore) or "default")
        object.__setattr__(self, "path_on_datastore", path_on_datastore or "")
        object.__setattr__(self, "name", name)

    def to_json(self) -> dict[str, str]:
        return {"datastore": self.datastore, "path_on_datastore": self.path_on_datastore}

    def create_data_reference(
        self, data_reference_name: str | None = None, datapath_compute_binding: Any = None
    ) -> DataReference:
        mode = datapath_compute_binding.mode if datapath_compute_binding is not None else None
        return DataReference(
            self.datastore, self.path_on_datastore, name=data_reference_name or self.name, mode=mode
        )


@dataclass(frozen=True)
class DataPathComputeBinding:
    """How a step sees a DataPath: ``mount`` or ``download`` (``direct``: the URI)."""

    mode: str = "mount"
    path_on_compute: str | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.path_on_compute is not None:
            ignored("DataPathComputeBinding", "path_on_compute", "the script gets the path in its arguments.")


@dataclass(frozen=True, init=False)
class DataPathInput(DataReference):
    """A DataReference whose datastore and path come from the run parameter ``parameter``."""

    parameter: PipelineParameter | None = None

    def __init__(self, *args: Any, parameter: PipelineParameter | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "parameter", parameter)

    @classmethod
    def of(cls, parameter: PipelineParameter, binding: DataPathComputeBinding | None = None) -> DataPathInput:
        default = parameter.default_value
        if not isinstance(default, DataPath):
            raise PipelineDefinitionError(
                f'PipelineParameter "{parameter.name}" is bound to compute as data, but its default_value '
                f"is a {type(default).__name__}, not a DataPath.",
                fix=f'Give PipelineParameter("{parameter.name}", default_value=DataPath(datastore, "path")).',
                argument=parameter.name,
            )
        mode = binding.mode if binding is not None else "mount"
        return cls(
            default.datastore, default.path_on_datastore, name=parameter.name, mode=mode, parameter=parameter
        )

    def __str__(self) -> str:
        return f"$AML_DATAREFERENCE_{self.name}"


def as_data_input(value: Any) -> Any:
    """Azure ML v1's forms of a data input, as a data object; anything else unchanged.

    ``(PipelineParameter(DataPath), DataPathComputeBinding)`` and a PipelineParameter whose
    default is a DataPath become a :class:`DataPathInput`; a Dataset becomes the
    DataReference of its files.
    """
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], PipelineParameter)
        and isinstance(value[1], DataPathComputeBinding)
    ):
        return DataPathInput.of(value[0], value[1])
    if isinstance(value, PipelineParameter) and isinstance(value.default_value, DataPath):
        return DataPathInput.of(value)
    as_input = getattr(value, "as_data_input", None)
    if callable(as_input):
        return as_input()
    return value


def bind_run_parameters(data: Any, params: Any) -> Any:
    """``data`` as this run sees it: a DataPathInput becomes the DataReference its parameter names."""
    if not isinstance(data, DataPathInput) or data.parameter is None:
        return data
    name = data.parameter.name
    value = params.get(name, data.parameter.default_value)
    if isinstance(value, DataPath):
        value = value.to_json()
    if isinstance(value, str):
        value = {"datastore": data.datastore, "path_on_datastore": value}
    if not isinstance(value, dict) or not isinstance(value.get("path_on_datastore", ""), str):
        raise PipelineDefinitionError(
            f'parameter "{name}" is {value!r}, not a data path.',
            fix='Give {"datastore": "<name>", "path_on_datastore": "<path>"}, or a path as a string.',
            argument=name,
        )
    bound = DataReference(
        str(value.get("datastore") or data.datastore),
        str(value.get("path_on_datastore") or ""),
        name=data.name,
        mode=data.mode,
        input_name=data.input_name,
    )
    if bound.problem is not None:
        raise bound.problem.located(argument=name)
    return bound


def declared_default(value: Any) -> Any:
    """A DataPath default as the DAG Param holds it (JSON); other values unchanged."""
    return value.to_json() if isinstance(value, DataPath) else value
