"""``<step>.reuse``: the caching sensor in front of every step's run task."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from functools import cached_property
from typing import Any, cast

from airflow.exceptions import AirflowException
from airflow.sdk import BaseSensorOperator, Context

try:
    from airflow.sdk import SkipMixin
except ImportError:  # Airflow 3.1 has it in the standard provider
    from airflow.providers.standard.utils.skipmixin import SkipMixin  # type: ignore[assignment]
try:
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:  # Airflow 3.1 has it in airflow.exceptions only
    from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]
from sqlalchemy.exc import OperationalError

from airflow_ml_provider import settings
from airflow_ml_provider.attempts import sweep_dead_attempts
from airflow_ml_provider.caching.content import SnapshotError
from airflow_ml_provider.caching.fingerprint import UnfingerprintableError
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import (
    Decision,
    StepCacheDamagedError,
    StepCacheStore,
    unreachable_store,
)
from airflow_ml_provider.handoff import (
    FINGERPRINT_KEY,
    MODEL_VERSION_KEY,
    OUTPUTS_KEY,
    REUSE_DECISION,
    RUN_ID_KEY,
    FingerprintClaim,
    LeaseHolder,
    OutputReference,
    ResultOrigin,
)
from airflow_ml_provider.hooks.connections import each_connection_read_once
from airflow_ml_provider.hooks.sql import csv_digest
from airflow_ml_provider.hooks.tracking_config import resolve
from airflow_ml_provider.lineage import StepLineage, StepLineageMixin, step_input_uris
from airflow_ml_provider.links import MlflowRunLink
from airflow_ml_provider.pipeline.data import DataReference
from airflow_ml_provider.pipeline.datapath import bind_run_parameters
from airflow_ml_provider.pipeline.describe import describe_step
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.pipeline.steps import Step
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.run_options import stopped_by_failure
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.sensors.decision import WAIT, PreImage, data_reference_digest, decide
from airflow_ml_provider.triggers.lease import LeaseReleasedTrigger
from airflow_ml_provider.xcom_handoff import produced_reference

# The step's description (JSON) travels with the serialized DAG, for the UI plugin.
STEP_FIELD = "ml_step"


class StepReuseSensor(StepLineageMixin, BaseSensorOperator, SkipMixin):
    """Computes the step's fingerprint and decides: reuse, wait for another run, or run.

    - hit: pushes the cached output references (as its return value) and skips ``.run``;
    - another run holds the lease on the same fingerprint: defers to the triggerer until that
      lease is released or expires (no worker slot held, no reschedule), then decides again;
    - miss: takes the lease, pushes the fingerprint for ``.run`` to commit, lets it go.
    """

    ui_color = "#e8f4e8"
    operator_extra_links = (MlflowRunLink(),)

    def __init__(self, *, step: Step, pipeline: RenderedPipeline, pre_image: PreImage, **kwargs: Any) -> None:
        """``pre_image``: the step kind's fingerprint (see airflow_ml_provider.step_kinds)."""
        kwargs.setdefault("poke_interval", settings.reuse_poke_seconds())
        super().__init__(**kwargs)
        self.step = step
        self.pre_image = pre_image
        self.pipeline = pipeline
        self.mlflow_run_url: str | None = None

    @cached_property
    def ml_step(self) -> str:
        """The step's description for the UI (JSON), made when the DAG is serialized: a worker
        that parses the DAG file to run one task never reads it."""
        return json.dumps(describe_step(self.step), sort_keys=True)

    @classmethod
    def get_serialized_fields(cls) -> frozenset[str]:
        return frozenset(super().get_serialized_fields() | {STEP_FIELD})

    def poke(self, context: Context) -> bool:
        stat_cache = StatCache(settings.stat_cache_path(), self.log.warning)
        try:
            with each_connection_read_once():
                return self._decide(context, StepCacheStore(), stat_cache)
        except (StepCacheDamagedError, OperationalError) as error:
            problem = str(error) if isinstance(error, StepCacheDamagedError) else unreachable_store(error)
            if settings.on_cache_error() == "run_uncached":
                self.log.warning(f'step "{self.step.name}": {problem}; it runs without the cache')
                return True
            raise AirflowException(f'step "{self.step.name}": {problem}') from None
        finally:
            stat_cache.close()

    def _decide(self, context: Context, store: StepCacheStore, stat_cache: StatCache) -> bool:
        step, ti = self.step, context["ti"]
        run_conf = context["dag_run"].conf or {}
        stopped = stopped_by_failure(ti, run_conf)
        if stopped:
            self.log.info(f'step "{step.name}": {stopped}')
            raise AirflowSkipException(stopped)
        # The producers' references the fingerprint reads, kept for the lineage of a hit.
        produced: dict[str, OutputReference] = {}
        try:
            pre_image = self.pre_image(
                step,
                run_parameters(context),
                lambda data: self._input_digest(data, context, stat_cache, produced),
                stat_cache,
            )
            holder = LeaseHolder(ti.dag_id, ti.run_id, step.name)
            outcome = decide(
                step,
                pre_image,
                dag_id=ti.dag_id,
                store=store,
                stat_cache=stat_cache,
                regenerate=bool(run_conf.get("regenerate_outputs")),
                lease=lambda base: self._take_lease(store, base, str(holder)),
                evict=True,
                warn=lambda problem: self.log.warning(f'step "{step.name}": {problem}'),
            )
        except SnapshotError as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        except UnfingerprintableError as error:
            self._record(store, ti, "run", f"run, not cached: cannot fingerprint {error}", None, None)
            self.log.warning(f'step "{step.name}": cannot fingerprint {error}; it runs and is not cached')
            return True
        base = str(outcome.base)
        if outcome.hit is not None:
            hit = outcome.hit
            self.log.info(f'step "{step.name}": {outcome.message}')
            self._record(store, ti, "reused", outcome.message, base, pre_image)
            origin = hit.entry.origin
            original_run = self._link_original_run(ti, origin)
            # Each reference's produced_by says which run and attempt made it.
            ti.xcom_push(key=OUTPUTS_KEY, value=hit.entry.outputs)
            if origin.model_version:
                ti.xcom_push(key=MODEL_VERSION_KEY, value=origin.model_version)
            self.lineage = StepLineage(
                step.name,
                step_input_uris(step, self.pipeline, ti, run_parameters(context), produced),
                [str(reference["uri"]) for reference in hit.entry.outputs.values()],
                fingerprint=base,
                cache_hit=True,
                source_run=origin.produced_by.run_id,
                mlflow_run_id=original_run,
            )
            self.skip(ti=ti, tasks=[self.dag.get_task(self.pipeline.task_ids(step.name)["run"])])
            return True
        if outcome.decision == WAIT:
            other = cast(LeaseHolder, outcome.holder)
            self.log.info(
                f'step "{step.name}": {outcome.message}; deferred until it is done, then reusing its result'
            )
            # Once per wait, so that the UI can say whom the step waits for.
            earlier = store.decisions(ti.dag_id, step.name, ti.run_id)
            if not earlier or earlier[-1].decision != "waiting":
                message = f"waiting for run {other.run_id}, which is computing the same fingerprint"
                self._record(store, ti, "waiting", message, base, None)
            self.defer(
                trigger=LeaseReleasedTrigger(base, str(other), self.poke_interval),
                method_name="resume_after_lease",
                timeout=timedelta(seconds=self.timeout) if self.timeout else None,
            )
        self.log.info(f'step "{step.name}": {outcome.message}')
        self._record(store, ti, "run", outcome.message, base, pre_image)
        # The pre-image is in the store (by its digest): XCom carries only the digest.
        ti.xcom_push(key=FINGERPRINT_KEY, value=FingerprintClaim(base, holder).to_json())
        return True

    def _take_lease(self, store: StepCacheStore, base: str, holder: str) -> str | None:
        """Take the lease on ``base``; the other holder when it is not free."""
        other = store.try_lease(base, holder, settings.lease_seconds())
        if other is not None and sweep_dead_attempts(self.log.warning):
            # The holder may have been an attempt that died on this machine: its lease is free now.
            other = store.try_lease(base, holder, settings.lease_seconds())
        return other

    def resume_after_lease(self, context: Context, event: dict[str, Any] | None = None) -> None:
        """The other run's lease is gone: decide again (its result, or the lease for this run)."""
        if not self.poke(context):
            raise AirflowException(f'step "{self.step.name}": no decision after waiting for the lease')

    def _link_original_run(self, ti: Any, origin: ResultOrigin) -> str | None:
        """The task's MLflow link opens the run that produced the reused result.

        The reused step's own MLflow run (tagged reused_from, with the original metrics) is
        written when the DAG run ends, by its closing callback: a hit never starts MLflow here
        (its import and store start-up cost seconds in every task process).
        """
        original = origin.mlflow_run_id
        if not original or self.step.tracking == "off":
            return None
        self.mlflow_run_url = resolve().run_link(str(original))
        ti.xcom_push(key=RUN_ID_KEY, value=original)
        return str(original)

    def _input_digest(
        self, data: Any, context: Context, stat_cache: StatCache, produced: dict[str, OutputReference]
    ) -> str:
        data = bind_run_parameters(data, run_parameters(context))
        if isinstance(data, SqlDataReference):
            return csv_digest(data.datastore, data.sql_query)
        if not isinstance(data, DataReference):
            reference = produced_reference(self.pipeline, self.step.name, data.name, context["ti"])
            produced[data.name] = reference
            return reference.digest
        return data_reference_digest(data, stat_cache)

    def _record(
        self,
        store: StepCacheStore,
        ti: Any,
        decision: str,
        message: str,
        base: str | None,
        pre_image: dict[str, Any] | None,
    ) -> None:
        store.record(
            Decision(ti.dag_id, ti.run_id, self.step.name, decision, message, base, pre_image, time.time())
        )
        # Read by API clients (the run's step table), which cannot reach the step cache.
        ti.xcom_push(
            key=REUSE_DECISION, value={"decision": decision, "message": message, "fingerprint": base}
        )
