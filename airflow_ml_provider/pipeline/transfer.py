"""``DataTransferStep``: copy a file or folder between two datastores, as Azure ML's does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from airflow_ml_provider.pipeline.data import DataInput, DataReference, PipelineData
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.steps import (
    Step,
    _check_tracking,
    _defining_file_directory,
    _with_current_dag,
    check_data,
)

SOURCE_REFERENCE_TYPES = ("file", "directory")


class DataTransferStep(Step):
    """Copy ``source_data_reference`` to ``destination_data_reference``, streaming in chunks.

        - source: a ``DataReference`` (data that exists) or a ``PipelineData`` of another step;
        - destination: a ``PipelineData`` (its location chosen per run, like any output) or a
          ``DataReference`` path (refused if something is there, unless ``overwrite=True``);
        - ``source_reference_type``: ``"file"`` or ``"directory"``; left out, whatever the source
          is when the step runs (and the destination likewise, unless it says). A file copied
          into a folder destination (a ``PipelineData`` with ``is_directory=True``) keeps its name;
        - ``overwrite``: replace a ``DataReference`` destination (also read from the destination's
          own ``overwrite=``, as Azure ML v1 does).

    The copy runs on the Airflow worker, streaming between the two datastores: a
    ``compute_target`` is refused (Azure ML v1's, a Data Factory, is accepted and ignored by
    ``airflow_ml_provider.v1.DataTransferStep``). It has no code, arguments or parameters.

        Reused, like any step, when its source did not change (``allow_reuse=False`` to
        always copy). ``source=`` / ``destination=`` are accepted for the two data arguments.
        Each copy gets an MLflow run with its bytes, files and rate (``tracking`` as on other steps).
    """

    kind: ClassVar[str] = "data_transfer"

    def __init__(
        self,
        name: str,
        source_data_reference: DataInput | None = None,
        destination_data_reference: PipelineData | DataReference | None = None,
        source_reference_type: str | None = None,
        destination_reference_type: str | None = None,
        allow_reuse: bool = True,
        *,
        source: DataInput | None = None,
        destination: PipelineData | DataReference | None = None,
        overwrite: bool = False,
        version: str | None = None,
        compute_target: Any = None,
        base_directory: str | os.PathLike[str] | None = None,
        tracking: str | None = None,
        experiment_name: str | None = None,
    ) -> None:
        try:
            source_data = _one_of(source_data_reference, source, "source_data_reference", "source")
            destination_data = _one_of(
                destination_data_reference, destination, "destination_data_reference", "destination"
            )
            if not isinstance(source_data, DataReference | PipelineData):
                raise PipelineDefinitionError(
                    f"the source is a {type(source_data).__name__}, not data.",
                    fix="Give a DataReference (or the PipelineData of another step).",
                    argument="source_data_reference",
                )
            if not isinstance(destination_data, DataReference | PipelineData):
                raise PipelineDefinitionError(
                    f"the destination is a {type(destination_data).__name__}, not data.",
                    fix="Give a PipelineData (location chosen per run) or a DataReference path.",
                    argument="destination_data_reference",
                )
            check_data(source_data, step=str(name), argument="source_data_reference")
            check_data(destination_data, step=str(name), argument="destination_data_reference")
            kind = source_reference_type
            if kind is not None and kind not in SOURCE_REFERENCE_TYPES:
                raise PipelineDefinitionError(
                    f"source_reference_type {kind!r} is not one of {', '.join(SOURCE_REFERENCE_TYPES)}.",
                    fix='Say "file" for one file, "directory" for a folder.',
                    argument="source_reference_type",
                )
            if destination_reference_type not in (None, *SOURCE_REFERENCE_TYPES):
                raise PipelineDefinitionError(
                    f"destination_reference_type {destination_reference_type!r} is not one of "
                    f"{', '.join(SOURCE_REFERENCE_TYPES)}.",
                    fix='Say "file" or "directory", or leave it out.',
                    argument="destination_reference_type",
                )
            if kind == "directory" and (
                destination_reference_type == "file"
                or (isinstance(destination_data, PipelineData) and not destination_data.is_directory)
            ):
                raise PipelineDefinitionError(
                    "a folder cannot be copied to a file destination.",
                    fix="Make the destination a folder (PipelineData(..., is_directory=True)).",
                    argument="destination_data_reference",
                )
            if destination_data.name == source_data.name:
                raise PipelineDefinitionError(
                    f'source and destination are the same data "{source_data.name}".',
                    fix="Copy to new data.",
                    argument="destination_data_reference",
                )
            if compute_target is not None:
                raise PipelineDefinitionError(
                    "a DataTransferStep has no compute target: the copy runs on the Airflow worker, "
                    "streaming between the two datastores.",
                    fix="Leave compute_target out (Azure ML v1 code keeps it through "
                    "airflow_ml_provider.v1.DataTransferStep, which ignores it).",
                    argument="compute_target",
                )
            super().__init__(
                name=name,
                inputs=[source_data],
                outputs=[destination_data] if isinstance(destination_data, PipelineData) else [],
                compute_target=None,
                allow_reuse=allow_reuse,
                version=version,
            )
            checked_tracking = _check_tracking(tracking)
        except PipelineDefinitionError as error:
            raise _with_current_dag(error.located(step=str(name))) from None
        # The destination when it is a place (not an output): a PipelineData one is outputs[0].
        self._destination_reference = (
            destination_data if isinstance(destination_data, DataReference) else None
        )
        self.source_reference_type = kind
        self.destination_is_directory: bool | None
        if isinstance(destination_data, PipelineData):
            self.destination_is_directory = destination_data.is_directory
        elif destination_reference_type is not None:
            self.destination_is_directory = destination_reference_type == "directory"
        else:
            self.destination_is_directory = None if kind is None else kind == "directory"
        self.overwrite = bool(overwrite) or bool(getattr(destination_data, "overwrite", False))
        self.base_directory = Path(base_directory) if base_directory else _defining_file_directory()
        self.tracking = checked_tracking
        self.experiment_name = experiment_name
        self._attach()

    @property
    def source(self) -> DataInput:
        """What is copied (the step's one input; a pipeline's copy has it on its datastore)."""
        return self.inputs[0]

    @property
    def destination(self) -> PipelineData | DataReference:
        """Where it is copied: the step's one output, or a DataReference place."""
        return self._destination_reference if self._destination_reference is not None else self.outputs[0]

    @property
    def destination_output_name(self) -> str:
        return self.destination.name

    def named_data(self) -> Iterator[tuple[str, DataInput]]:
        yield "source", self.source
        yield "destination", self.destination


def _one_of(first: Any, second: Any, first_name: str, second_name: str) -> Any:
    if first is not None and second is not None and first is not second:
        raise PipelineDefinitionError(
            f"both {first_name}= and {second_name}= were given.",
            fix=f"Give one of them ({second_name}= is the short name of {first_name}=).",
            argument=second_name,
        )
    value = first if first is not None else second
    if value is None:
        raise PipelineDefinitionError(
            f"no {first_name} was given.",
            fix=f"Give {first_name}= (or {second_name}=).",
            argument=first_name,
        )
    return value
