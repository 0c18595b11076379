"""``<step>.run`` of a DataTransferStep: streams the copy, then publishes its reference."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException
from airflow.sdk import BaseOperator, Context

from airflow_ml_provider.attempts import AttemptRecord, sweep_dead_attempts
from airflow_ml_provider.caching.commit import LeaseKeeper, commit_result
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.caching.verify import store_digest
from airflow_ml_provider.handoff import (
    RUN_ID_KEY,
    TRANSFER_STATS_KEY,
    FingerprintClaim,
    OutputReference,
    ProducedBy,
    ResultOrigin,
    references_to_json,
)
from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook
from airflow_ml_provider.hooks.sql import SqlSourceError, write_csv
from airflow_ml_provider.lineage import StepLineage, StepLineageMixin
from airflow_ml_provider.links import MlflowRunLink
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.operators.step import changed_references
from airflow_ml_provider.pipeline.data import DataReference, PipelineData
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.pipeline.transfer import DataTransferStep
from airflow_ml_provider.references import StepInputError, fingerprint_claim, produced_reference
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.stores import StoreError
from airflow_ml_provider.runtime.transfer import Endpoint, TransferResult, transfer
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.tracking.config import TrackingUnavailableError
from airflow_ml_provider.tracking.step import StepTracking, open_for_task


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


class DataTransferOperator(StepLineageMixin, BaseOperator):
    """Copies the step's source to its destination; returns ``{destination: reference}``.

    The reference has the same form as any step output's
    (``{uri, digest, size, files, produced_by}``, the digest being the blake3 of the
    copied bytes, as for local outputs) and is returned, and cached, only after the copy
    is complete. Transfer figures (bytes, files, seconds, peak memory growth of this
    process) go to XCom under ``transfer_stats``, and (but memory) to the copy's MLflow run.
    """

    ui_color = "#f6ecd9"
    operator_extra_links = (MlflowRunLink(),)

    def __init__(self, *, step: DataTransferStep, pipeline: RenderedPipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.pipeline = pipeline
        self.mlflow_run_url: str | None = None
        self._stopper = Stopper()

    def on_kill(self) -> None:
        """The task is being killed: stop copying (what was written is removed, nothing published)."""
        self.log.warning(f'step "{self.step.name}": killed; stopping the copy')
        self._stopper.stop()

    def execute(self, context: Context) -> dict[str, dict[str, Any]]:
        scratch = Path(tempfile.mkdtemp(prefix=f"aml-{self.step.name}-"))
        try:
            return self._copy(context, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _copy(self, context: Context, scratch: Path) -> dict[str, dict[str, Any]]:
        step, ti = self.step, context["ti"]
        try:
            source = self._source(context, scratch)
            destination = self._destination(context)
        except (DatastoreError, StepInputError, SqlSourceError) as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        claim = fingerprint_claim(self.pipeline, self.step, context["ti"])
        tracking = self._open_tracking(context, claim)
        store = StepCacheStore() if claim else None
        sweep_dead_attempts(self.log.warning)
        final = local_path(destination.uri)
        record = AttemptRecord(
            f"{ti.dag_id} {ti.run_id} {step.name} try {ti.try_number}",
            "",
            [str(final.parent)] if final is not None else [],
        )
        if tracking is not None:
            record.content["mlflow_run_id"] = tracking.run_id
        if claim:
            record.content["lease"] = [claim.base_key, str(claim.holder)]
        with (
            record,
            LeaseKeeper(store, claim) if store and claim else nullcontext(),
        ):
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
                self._close_tracking(tracking, None)
                raise AirflowException(f'step "{step.name}": {error}') from None
            except BaseException:
                self._close_tracking(tracking, None)
                raise
            self.log.info(
                f'step "{step.name}": copied {result.files} file(s), {result.size} bytes in '
                f"{result.seconds:.1f} s ({result.rate / 2**20:.1f} MiB/s); peak memory growth "
                f"{memory.growth / 2**20:.1f} MiB"
            )
            ti.xcom_push(key=TRANSFER_STATS_KEY, value=_stats(result, memory.growth))
            self._close_tracking(tracking, result)
            produced_by = ProducedBy.of(ti)
            references = {
                step.destination.name: OutputReference(
                    result.uri,
                    result.digest,
                    result.size,
                    result.files,
                    produced_by,
                    store_digest(result.uri, destination.storage_options),
                )
            }
            self.lineage = StepLineage(
                step.name, [source.uri], [result.uri], fingerprint=claim.base_key if claim else None
            )
            changed = (
                changed_references(step, store, claim.base_key, self.log.warning, run_parameters(context))
                if store and claim
                else []
            )
            for change in changed:
                self.log.warning(f'step "{step.name}": {change}; its result is not cached')
            if store and claim and not changed:
                key = commit_result(
                    store,
                    base=claim.base_key,
                    dag_id=ti.dag_id,
                    step=step.name,
                    source_directory=step.base_directory,
                    base_directory=step.base_directory,
                    imported_modules=[],
                    outputs=references,
                    origin=ResultOrigin(produced_by, tracking.run_id if tracking else None),
                    warn=self.log.warning,
                )
                if key:
                    self.log.info(f'step "{step.name}": result cached under fingerprint {key[:12]}')
        return references_to_json(references)

    def _open_tracking(self, context: Context, claim: FingerprintClaim | None) -> StepTracking | None:
        step, ti = self.step, context["ti"]
        try:
            tracking = open_for_task(
                step,
                ti,
                context["params"],
                fingerprint=claim.base_key if claim else "none",
                compute_target=step.compute_target,
                warn=self.log.warning,
            )
        except TrackingUnavailableError as error:
            raise AirflowException(str(error)) from None
        if tracking is not None:
            self.mlflow_run_url = tracking.url
            ti.xcom_push(key=RUN_ID_KEY, value=tracking.run_id)
        return tracking

    def _close_tracking(self, tracking: StepTracking | None, result: TransferResult | None) -> None:
        """The copy's figures on its run (and, through the roll-up, on the pipeline run)."""
        if tracking is None:
            return
        try:
            if result is not None:
                tracking.tracker.log_metrics(tracking.run_id, _run_metrics(result))
            tracking.finish(result is not None, self.step.name)
        except TrackingUnavailableError as error:
            if result is not None and self.step.tracking != "optional":
                raise AirflowException(f'step "{self.step.name}": {error}') from None
            self.log.warning(f'step "{self.step.name}": {error}')

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
