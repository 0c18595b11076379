"""``<step>.run`` of a DataTransferStep: streams the copy, then publishes its reference."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException
from airflow.sdk import Context

from airflow_ml_provider.caching.verify import store_digest
from airflow_ml_provider.copying import Endpoint, TransferResult, transfer
from airflow_ml_provider.handoff import (
    TRANSFER_STATS_KEY,
    OutputReference,
    ProducedBy,
)
from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook
from airflow_ml_provider.hooks.sql import SqlSourceError, write_csv
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.operators.base import Attempt, Produced, StepRunBase
from airflow_ml_provider.pipeline.data import DataReference, PipelineData
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.pipeline.transfer import DataTransferStep
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.stores import StoreError
from airflow_ml_provider.tracking.step import StepTracking
from airflow_ml_provider.xcom_handoff import StepInputError, produced_reference


class _PeakMemory:
    """Samples this process's resident memory while the copy runs: the peak above the start."""

    def __init__(self, every: float = 0.05) -> None:
        import psutil

        self._process = psutil.Process(os.getpid())
        self.start = self._process.memory_info().rss
        self.peak = self.start
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="transfer-memory")

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start


class DataTransferOperator(StepRunBase):
    """Copies the step's source to its destination; returns ``{destination: reference}``.

    The reference has the same form as any step output's
    (``{uri, digest, size, files, produced_by}``, the digest being the blake3 of the
    copied bytes, as for local outputs) and is returned, and cached, only after the copy
    is complete. Transfer figures (bytes, files, seconds, peak memory growth of this
    process) go to XCom under ``transfer_stats``, and (but memory) to the copy's MLflow run.
    """

    ui_color = "#f6ecd9"
    stops = "the copy"

    def __init__(self, *, step: DataTransferStep, pipeline: RenderedPipeline, **kwargs: Any) -> None:
        super().__init__(step=step, pipeline=pipeline, **kwargs)

    def prepare(self, context: Context, work: Path) -> Attempt:
        step = self.step
        try:
            source = self._source(context, work)
            destination = self._destination(context)
        except (DatastoreError, StepInputError, SqlSourceError) as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        final = local_path(destination.uri)
        return Attempt(
            work,
            [source.uri],
            [str(final.parent)] if final is not None else [],
            step.compute_target,
            context["params"],
            plan=(source, destination),
        )

    def produce(self, context: Context, attempt: Attempt, tracking: StepTracking | None) -> Produced:
        step, ti = self.step, context["ti"]
        source, destination = attempt.plan
        try:
            with _PeakMemory() as memory:
                result = transfer(
                    source,
                    destination,
                    source_is_directory=_is_directory(step.source_reference_type),
                    destination_is_directory=step.destination_is_directory,
                    overwrite=step.overwrite,
                    # A step output is never replaced: the cache may point at it.
                    keep_existing=isinstance(step.destination, PipelineData),
                    stopper=self._stopper,
                    log=self.log.info,
                )
        except StoreError as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        self.log.info(
            f'step "{step.name}": copied {result.files} file(s), {result.size} bytes in '
            f"{result.seconds:.1f} s ({result.rate / 2**20:.1f} MiB/s); peak memory growth "
            f"{memory.growth / 2**20:.1f} MiB"
        )
        ti.xcom_push(key=TRANSFER_STATS_KEY, value=_stats(result, memory.growth))
        reference = OutputReference(
            result.uri,
            result.digest,
            result.size,
            result.files,
            ProducedBy.of(ti),
            store_digest(result.uri, destination.storage_options),
        )
        # A copy imports no code: its fingerprint's code part is the step's folder only.
        return Produced({step.destination.name: reference}, [], step.base_directory, _run_metrics(result))

    def _source(self, context: Context, scratch: Path) -> Endpoint:
        data = self.step.source
        if isinstance(data, SqlDataReference):
            # The rows, written as CSV first, then copied like any file (digest, publication).
            rows = scratch / data.file_name
            write_csv(data.datastore, data.sql_query, rows)
            return Endpoint(rows.as_uri(), {}, data.datastore)
        if isinstance(data, DataReference):
            datastore = DatastoreHook(data.datastore).resolve()
            return Endpoint(datastore.uri(data.path_on_datastore), datastore.storage_options, datastore.name)
        reference = produced_reference(self.pipeline, self.step.name, data.name, context["ti"])
        datastore = DatastoreHook(data.datastore or "default").resolve()
        return Endpoint(reference.uri, datastore.storage_options, datastore.name)

    def _destination(self, context: Context) -> Endpoint:
        data = self.step.destination
        if isinstance(data, DataReference):
            datastore = DatastoreHook(data.datastore).resolve()
            return Endpoint(datastore.uri(data.path_on_datastore), datastore.storage_options, datastore.name)
        ti = context["ti"]
        datastore = DatastoreHook(data.datastore or "default").resolve()
        path = pipeline_data_path(ti.dag_id, ti.run_id, self.step.name, ti.try_number, data.name)
        return Endpoint(datastore.uri(path), datastore.storage_options, datastore.name)


def _run_metrics(result: TransferResult) -> dict[str, float]:
    return {
        "bytes": float(result.size),
        "files": float(result.files),
        "seconds": round(result.seconds, 3),
        "bytes_per_second": float(round(result.rate)),
    }


def _is_directory(reference_type: str | None) -> bool | None:
    """None: left out, so whatever the source turns out to be (as Azure ML v1 does)."""
    return None if reference_type is None else reference_type == "directory"


def _stats(result: TransferResult, memory_growth: int) -> dict[str, Any]:
    return {
        "bytes": result.size,
        "files": result.files,
        "seconds": round(result.seconds, 3),
        "bytes_per_second": round(result.rate),
        "peak_memory_growth_bytes": memory_growth,
    }
