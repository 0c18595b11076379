"""A step attempt's MLflow run: opened before the script, closed with the step's outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from airflow_ml_provider.handoff import LeaseHolder
from airflow_ml_provider.hooks.tracking_config import TrackingUnavailableError, resolve
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.run_conf import pipeline_run_tags, run_experiment
from airflow_ml_provider.tracking.probe import check_reachable
from airflow_ml_provider.tracking.reused import ReusedStep, reused_in_run
from airflow_ml_provider.tracking.runs import Tracker

TRACKING_MODES = ("required", "optional", "off")


@dataclass
class StepTracking:
    tracker: Tracker
    experiment_id: str
    parent_id: str
    run_id: str

    def script_environment(self) -> dict[str, str]:
        """What the script needs to log into this run with plain ``mlflow`` calls."""
        return {
            "MLFLOW_TRACKING_URI": self.tracker.config.uri,
            "MLFLOW_RUN_ID": self.run_id,
            "MLFLOW_EXPERIMENT_ID": self.experiment_id,
            **self.tracker.config.credentials,
        }

    @property
    def url(self) -> str | None:
        return self.tracker.config.run_url(self.experiment_id, self.run_id)

    def finish(self, succeeded: bool, step: str, *, killed: bool = False) -> dict[str, float]:
        """Close the run with the step's outcome; on success roll its metrics up to the parent."""
        self.tracker.end_run(self.run_id, "FINISHED" if succeeded else "KILLED" if killed else "FAILED")
        if not succeeded:
            return {}
        metrics = self.tracker.metrics(self.run_id)
        self.tracker.roll_up(self.parent_id, step, metrics)
        return metrics


def end_if_running(run_id: str, status: str = "KILLED") -> bool:
    """End a step's MLflow run left RUNNING by a dead attempt; False if it was not (or is unknown).

    Raises TrackingUnavailableError when the tracking server cannot be reached.
    """
    config = resolve()
    check_reachable(config, "", "")
    tracker = Tracker(config)
    try:
        run = tracker.call("get run", tracker.client.get_run, run_id)
    except TrackingUnavailableError:
        raise
    except Exception:  # not in this tracking store (tracking moved, or the run was deleted)
        return False
    if run.info.status != "RUNNING":
        return False
    tracker.end_run(run_id, status)
    return True


@contextmanager
def _parent_lock(dag_id: str, run_id: str, holder: str) -> Iterator[None]:
    """One creator of a DAG run's parent run across workers: a lease in the step cache store."""
    from airflow_ml_provider.caching.fingerprint import digest_of
    from airflow_ml_provider.caching.store import StepCacheDamagedError, StepCacheStore

    # Lease keys are digests (64 characters), like fingerprints.
    key = digest_of(["mlflow-parent", dag_id, run_id])
    try:
        store = StepCacheStore()
    except StepCacheDamagedError:  # the steps say so; the run is still tracked
        yield
        return
    deadline = time.monotonic() + 120
    while store.try_lease(key, holder, 60) is not None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    try:
        yield
    finally:
        store.release_lease(key, holder)


def open_step_tracking(
    *,
    mode: str,
    experiment_name: str,
    dag_id: str,
    run_id: str,
    step: str,
    tags: dict[str, str],
    params: dict[str, str],
    warn: Callable[[str], None],
    pipeline_params: dict[str, str] | None = None,
    run_tags: dict[str, str] | None = None,
) -> StepTracking | None:
    """The child run of this step attempt, or None when tracking is off (or optional and down).

    ``pipeline_params`` (the DAG run's parameters) and ``run_tags`` go on the parent run when
    it is created.
    """
    if mode == "off":
        return None
    try:
        config = resolve()
        check_reachable(config, dag_id, run_id)
        tracker = Tracker(config)
        experiment_id = tracker.experiment_id(experiment_name)
        attempt = str(tags.get("try_number", ""))
        holder = str(LeaseHolder(dag_id, run_id, step, int(attempt) if attempt.isdigit() else None))
        parent_id = tracker.pipeline_run(
            experiment_id,
            dag_id,
            run_id,
            lock=lambda: _parent_lock(dag_id, run_id, holder),
            params=pipeline_params,
            tags=run_tags,
        )
        child = tracker.start_step_run(experiment_id, parent_id, step, tags, params)
    except TrackingUnavailableError as error:
        if mode == "optional":
            warn(f'step "{step}": running untracked (tracking="optional"): {error}')
            return None
        raise TrackingUnavailableError(f'step "{step}": {error}') from None
    return StepTracking(tracker, experiment_id, parent_id, child)


def step_run_tags(
    dag_id: str,
    run_id: str,
    try_number: int,
    *,
    fingerprint: str,
    compute_target: str,
    reused_from: str | None = None,
) -> dict[str, str]:
    """The tags of a step attempt's MLflow run (a reused step's names the run it reused)."""
    return {
        "dag_id": dag_id,
        "run_id": run_id,
        "try_number": str(try_number),
        "fingerprint": fingerprint,
        "compute_target": compute_target,
        **({"reused_from": reused_from} if reused_from else {}),
    }


def open_for_task(
    step: Any,
    ti: Any,
    values: Any,
    *,
    fingerprint: str,
    compute_target: str,
    warn: Callable[[str], None],
) -> StepTracking | None:
    """The MLflow run of one attempt of ``step``'s run task, with its tags."""
    from airflow_ml_provider.tracking.params import pipeline_params, step_params

    conf = run_conf_of(ti)
    return open_step_tracking(
        mode=step.tracking or "required",
        experiment_name=run_experiment(conf, step.experiment_name or ti.dag_id),
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        step=step.name,
        tags=step_run_tags(
            ti.dag_id, ti.run_id, ti.try_number, fingerprint=fingerprint, compute_target=compute_target
        ),
        params=step_params(step, values),
        warn=warn,
        pipeline_params=pipeline_params(values),
        run_tags=pipeline_run_tags(conf),
    )


def run_conf_of(ti: Any) -> dict[str, Any]:
    """The conf of the DAG run a task instance belongs to ({} when it has none)."""
    dag_run = ti.get_template_context().get("dag_run")
    return dict(getattr(dag_run, "conf", None) or {})


def record_reused_steps(
    tracker: Tracker,
    reused: list[ReusedStep],
    *,
    dag_id: str,
    run_id: str,
    conf: dict[str, Any],
    values: Any,
    warn: Callable[[str], None],
) -> set[str]:
    """Give each reused step its child run of the pipeline run (created if no step opened it):
    tagged ``reused_from``, with the original run's metrics, rolled up onto the pipeline run.

    A step that already has its run for that attempt (the callback ran before) is left as it
    is. Returns the experiments written to.
    """
    from airflow_ml_provider.tracking.params import pipeline_params, step_params

    by_experiment: dict[str, list[ReusedStep]] = {}
    for item in reused:
        name = run_experiment(conf, item.step.experiment_name or dag_id)
        by_experiment.setdefault(name, []).append(item)
    for name, items in by_experiment.items():
        experiment_id = tracker.experiment_id(name)
        parent_id = tracker.pipeline_run(
            experiment_id,
            dag_id,
            run_id,
            # Held by the DAG run's closing callback (a step's holder names its attempt too).
            lock=lambda: _parent_lock(dag_id, run_id, str(LeaseHolder(dag_id, run_id, "closing"))),
            params=pipeline_params(values),
            tags=pipeline_run_tags(conf),
        )
        written = {
            (tags.get("step"), tags.get("try_number"), tags.get("reused_from"))
            for tags in tracker.step_run_tags(experiment_id, dag_id, run_id)
        }
        rolled_up: dict[str, float] = {}
        for item in items:
            step, original = item.step, item.origin.mlflow_run_id if item.origin else None
            tags = step_run_tags(
                dag_id,
                run_id,
                item.attempt,
                fingerprint=item.fingerprint,
                compute_target=step.compute_target,
                reused_from=original,
            )
            if (step.name, tags["try_number"], tags.get("reused_from")) in written:
                continue
            metrics: dict[str, float] = {}
            if original:
                try:
                    metrics = tracker.metrics(original)
                except TrackingUnavailableError:
                    raise
                except Exception as error:
                    warn(f'step "{step.name}": the original run {original} is not readable ({error})')
            child = tracker.start_step_run(
                experiment_id, parent_id, step.name, tags, step_params(step, values), start_time=item.at
            )
            tracker.log_metrics(child, metrics)
            tracker.end_run(child, "FINISHED", end_time=item.at)
            rolled_up.update({f"{step.name}.{key}": value for key, value in metrics.items()})
        tracker.log_metrics(parent_id, rolled_up)
    return set(by_experiment)


@dataclass(frozen=True)
class PipelineRunCloser:
    """DAG callback: record the reused steps' MLflow runs, then close the DAG run's parent run
    (in each experiment written to) with the DAG run's outcome.

    ``pipeline``: the DAG's steps; ``parameters``: a run's parameter values from the callback's
    context (as the steps' tasks read them).
    """

    experiment_name: str | None
    succeeded: bool
    pipeline: RenderedPipeline | None = field(default=None, compare=False, repr=False)
    parameters: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)

    def __call__(self, context: Any) -> None:
        log = logging.getLogger(__name__)
        dag_run = context.get("dag_run")
        if dag_run is None:  # Airflow gives no run details when no task instance ended the run
            log.warning(f"pipeline run {context.get('run_id')} not closed: the callback has no DAG run")
            return
        dag_id, run_id, conf = dag_run.dag_id, dag_run.run_id, dict(dag_run.conf or {})
        reused = self._reused(dag_id, run_id, log.warning)
        try:
            config = resolve()
            check_reachable(config, dag_id, run_id)
            tracker = Tracker(config)
            experiments = {run_experiment(conf, self.experiment_name or dag_id)}
            if reused and self.parameters is not None:
                values = self.parameters(context)
                experiments |= record_reused_steps(
                    tracker, reused, dag_id=dag_id, run_id=run_id, conf=conf, values=values, warn=log.warning
                )
            for name in sorted(experiments):
                experiment = tracker.call("get experiment", tracker.client.get_experiment_by_name, name)
                if experiment is None:
                    continue
                parent = tracker.find_pipeline_run(str(experiment.experiment_id), dag_id, run_id)
                if parent:
                    tracker.end_run(parent, "FINISHED" if self.succeeded else "FAILED")
        except TrackingUnavailableError as error:
            # The steps already failed or warned about it; the DAG run's outcome stands.
            log.warning(f"pipeline run not closed, reused steps' runs not written: {error}")

    def _reused(self, dag_id: str, run_id: str, warn: Callable[[str], None]) -> list[ReusedStep]:
        from airflow_ml_provider.caching.store import StepCacheStore

        if self.pipeline is None:
            return []
        try:
            return reused_in_run(StepCacheStore(), self.pipeline.steps.values(), dag_id, run_id, warn)
        except Exception as error:  # the step cache is unusable: the steps said so; close the run anyway
            warn(f"reused steps' MLflow runs not written: the step cache cannot be read ({error})")
            return []
