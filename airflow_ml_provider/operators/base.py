"""What every ``<step>.run`` task does around producing its step's outputs.

claim (the fingerprint ``<step>.reuse`` left in XCom) -> lease (kept alive while producing)
-> produce (the step kind's own work) -> references -> tracking -> commit (the cache entry).
A step kind implements how it prepares an attempt and how it produces its outputs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from airflow.exceptions import AirflowException
from airflow.sdk import BaseOperator, Context

from airflow_ml_provider import settings
from airflow_ml_provider.attempts import AttemptRecord, sweep_dead_attempts
from airflow_ml_provider.caching.commit import LeaseKeeper, commit_result
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.caching.verify import reference_digest
from airflow_ml_provider.handoff import (
    RUN_ID_KEY,
    FingerprintClaim,
    OutputReference,
    ProducedBy,
    ResultOrigin,
    references_to_json,
)
from airflow_ml_provider.hooks.datastore import DatastoreHook
from airflow_ml_provider.hooks.tracking_config import TrackingUnavailableError
from airflow_ml_provider.lineage import StepLineage, StepLineageMixin
from airflow_ml_provider.links import MlflowRunLink
from airflow_ml_provider.pipeline.data import DataReference
from airflow_ml_provider.pipeline.datapath import bind_run_parameters
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.stores import StoreError
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.tracking.step import StepTracking, open_for_task
from airflow_ml_provider.xcom_handoff import fingerprint_claim


@dataclass
class Attempt:
    """A prepared attempt: what it reads, where it writes, and the step kind's own plan."""

    work: Path
    input_uris: list[str]
    output_folders: list[str]
    compute_target: str
    params: Any
    plan: Any = None


@dataclass
class Produced:
    """What an attempt produced: its output references, the first-party modules its code
    imported (None: not reported, so not cacheable), the folder its code part covers, and
    figures for its MLflow run."""

    references: dict[str, OutputReference]
    imported_modules: list[str] | None
    code_directory: Path
    metrics: dict[str, float] = field(default_factory=dict)


class StepRunBase(StepLineageMixin, BaseOperator):
    """Runs one attempt of a step and returns its output references (JSON, never the data)."""

    operator_extra_links = (MlflowRunLink(),)
    # What a killed task stops, for its log line.
    stops: ClassVar[str] = "its work"

    def __init__(self, *, step: Any, pipeline: RenderedPipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.pipeline = pipeline
        self.mlflow_run_url: str | None = None
        self._stopper = Stopper()

    def on_kill(self) -> None:
        """The task is being killed: stop the script's process group, its container or pod, or the copy."""
        self.log.warning(f'step "{self.step.name}": killed; stopping {self.stops}')
        self._stopper.stop()

    def prepare(self, context: Context, work: Path) -> Attempt:
        """Resolve what the attempt reads and writes; AirflowException naming the step if it cannot."""
        raise NotImplementedError

    def produce(self, context: Context, attempt: Attempt, tracking: StepTracking | None) -> Produced:
        """Produce the step's outputs; AirflowException naming the step when the step itself failed."""
        raise NotImplementedError

    def register(self, context: Context, tracking: StepTracking | None, produced: Produced) -> str | None:
        """After a successful attempt's run is closed: register what it made (a model version)."""
        return None

    def execute(self, context: Context) -> dict[str, dict[str, Any]]:
        step, ti = self.step, context["ti"]
        with tempfile.TemporaryDirectory(prefix=f"aml-{step.name}-") as work:
            attempt = self.prepare(context, Path(work))
            claim = fingerprint_claim(self.pipeline, step, ti)
            self.lineage = StepLineage(
                step.name, attempt.input_uris, fingerprint=claim.base_key if claim else None
            )
            sweep_dead_attempts(self.log.warning)
            tracking = self._open_tracking(context, attempt, claim)
            record = AttemptRecord(
                f"{ti.dag_id} {ti.run_id} {step.name} try {ti.try_number}", work, attempt.output_folders
            )
            if tracking is not None:
                record.note(mlflow_run_id=tracking.run_id)
            if claim:
                record.note(lease=[claim.base_key, str(claim.holder)])
            store = StepCacheStore() if claim else None
            with record, LeaseKeeper(store, claim) if store and claim else nullcontext():
                try:
                    produced = self.produce(context, attempt, tracking)
                except BaseException:
                    self._close_tracking(tracking, None)
                    raise
                self.lineage = replace(
                    self.lineage,
                    outputs=[reference.uri for reference in produced.references.values()],
                    mlflow_run_id=tracking.run_id if tracking else None,
                )
                self._close_tracking(tracking, produced)
                model_version = self.register(context, tracking, produced)
                if store and claim:
                    # A later run reusing this result reports the same MLflow run and model version.
                    origin = ResultOrigin(
                        ProducedBy.of(ti), tracking.run_id if tracking else None, model_version
                    )
                    self._commit(store, claim, ti.dag_id, produced, origin, run_parameters(context))
        return references_to_json(produced.references)

    def _open_tracking(
        self, context: Context, attempt: Attempt, claim: FingerprintClaim | None
    ) -> StepTracking | None:
        step, ti = self.step, context["ti"]
        try:
            tracking = open_for_task(
                step,
                ti,
                attempt.params,
                fingerprint=claim.base_key if claim else "none",
                compute_target=attempt.compute_target,
                warn=self.log.warning,
            )
        except TrackingUnavailableError as error:
            raise AirflowException(str(error)) from None
        if tracking is not None:
            self.mlflow_run_url = tracking.url
            ti.xcom_push(key=RUN_ID_KEY, value=tracking.run_id)
            self.log.info(
                f'step "{step.name}": MLflow run {tracking.run_id}'
                + (f" ({tracking.url})" if tracking.url else "")
            )
        return tracking

    def _close_tracking(self, tracking: StepTracking | None, produced: Produced | None) -> None:
        """Close the attempt's run with its outcome (and its figures, when it succeeded)."""
        if tracking is None:
            return
        try:
            if produced is not None and produced.metrics:
                tracking.tracker.log_metrics(tracking.run_id, produced.metrics)
            tracking.finish(produced is not None, self.step.name, killed=self._stopper.stopped)
        except TrackingUnavailableError as error:
            if produced is not None and self.step.tracking != "optional":
                raise AirflowException(f'step "{self.step.name}": {error}') from None
            self.log.warning(f'step "{self.step.name}": {error}')

    def _commit(
        self,
        store: StepCacheStore,
        claim: FingerprintClaim,
        dag_id: str,
        produced: Produced,
        origin: ResultOrigin,
        params: Any,
    ) -> None:
        """Cache the result under the claimed fingerprint, unless its inputs changed meanwhile."""
        step = self.step
        changed = changed_references(step, store, claim.base_key, self.log.warning, params)
        for change in changed:
            self.log.warning(f'step "{step.name}": {change}; its result is not cached')
        if changed:
            return
        key = commit_result(
            store,
            base=claim.base_key,
            dag_id=dag_id,
            step=step.name,
            source_directory=produced.code_directory,
            base_directory=step.base_directory,
            imported_modules=produced.imported_modules,
            outputs=produced.references,
            origin=origin,
            warn=self.log.warning,
        )
        if key:
            self.log.info(f'step "{step.name}": result cached under fingerprint {key[:12]}')


def changed_references(
    step: Any, store: StepCacheStore, base: str, warn: Callable[[str], None], params: Any
) -> list[str]:
    """The ``DataReference`` inputs whose data differs now from what the fingerprint was made of.

    A result is cached under its fingerprint only if it was made from the data that
    fingerprint names: data that changed while the step ran makes it a one-off. ``params``:
    the run's parameters (a DataPath input is where its parameter points). A SQL source is
    not queried again: the copy's own digest is what its readers see.
    """
    expected = (store.pre_image(base) or {}).get("inputs", {})
    changed = []
    stat_cache = StatCache(settings.stat_cache_path(), warn)
    try:
        for data in step.inputs:
            data = bind_run_parameters(data, params)
            if not isinstance(data, DataReference) or isinstance(data, SqlDataReference):
                continue
            if data.name not in expected:
                continue
            datastore = DatastoreHook(data.datastore).resolve()
            uri = datastore.uri(data.path_on_datastore)
            try:
                now = reference_digest(
                    uri, datastore.storage_options, datastore=datastore.name, cache=stat_cache
                )
            except (FileNotFoundError, StoreError) as error:
                now = f"unreadable: {error}"
            if now != expected[data.name]:
                changed.append(f'input "{data.name}" at {uri} changed while the step ran')
    finally:
        stat_cache.close()
    return changed
