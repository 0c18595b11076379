"""MLflow runs for pipelines and steps, through an explicit ``MlflowClient`` (run ids passed around)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_ml_provider.hooks.tracking_config import TrackingConfig, TrackingUnavailableError
from airflow_ml_provider.hooks.tracking_credentials import shown
from airflow_ml_provider.tracking import process

T = TypeVar("T")

_MAX_PARAM_LENGTH = 6000


class Tracker:
    """Experiments, the parent run of a DAG run, and child runs of its steps.

    What the process keeps for MLflow (its environment, the experiment and parent run ids it
    has learnt) is in ``tracking/process.py``.
    """

    def __init__(self, config: TrackingConfig) -> None:
        from mlflow.tracking import MlflowClient

        process.use_tracking(config)
        self.config = config
        self.client = MlflowClient(tracking_uri=config.uri, registry_uri=config.uri)

    def call(self, what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One tracking call; an unreachable server becomes a TrackingUnavailableError."""
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if _is_unreachable(error):
                raise TrackingUnavailableError(
                    f"the MLflow tracking server at {shown(self.config.uri)} cannot be reached ({what}: "
                    f"{type(error).__name__}: {str(error)[:300]}). Check the tracking connection, "
                    'or set tracking="optional" to run the step untracked.'
                ) from None
            raise

    def experiment_id(self, name: str) -> str:
        key = (self.config.uri, name)
        if key not in process.experiment_ids:
            process.experiment_ids[key] = self._experiment_id(name)
        return process.experiment_ids[key]

    def _experiment_id(self, name: str) -> str:
        experiment = self.call("get experiment", self.client.get_experiment_by_name, name)
        if experiment is not None:
            return str(experiment.experiment_id)
        try:
            return str(
                self.call(
                    "create experiment",
                    self.client.create_experiment,
                    name,
                    artifact_location=self.config.artifact_location,
                )
            )
        except TrackingUnavailableError:
            raise
        except Exception:  # created meanwhile by a parallel step
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return str(experiment.experiment_id)

    def find_pipeline_run(self, experiment_id: str, dag_id: str, run_id: str) -> str | None:
        runs = self.call(
            "search runs",
            self.client.search_runs,
            [experiment_id],
            filter_string=(
                f"tags.ml_level = 'pipeline' and tags.dag_id = '{_quote(dag_id)}' "
                f"and tags.run_id = '{_quote(run_id)}'"
            ),
            order_by=["attributes.start_time ASC"],
            max_results=5,
        )
        return str(runs[0].info.run_id) if runs else None

    def pipeline_run(
        self,
        experiment_id: str,
        dag_id: str,
        run_id: str,
        lock: Callable[[], Any],
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """The parent run of a DAG run: found by its tags, created once (under ``lock``) with the
        pipeline's parameters as its params and ``tags``."""
        key = (self.config.uri, experiment_id, dag_id, run_id)
        if key not in process.parent_run_ids:
            process.parent_run_ids[key] = self._pipeline_run(
                experiment_id, dag_id, run_id, lock, params or {}, tags or {}
            )
        return process.parent_run_ids[key]

    def _pipeline_run(
        self,
        experiment_id: str,
        dag_id: str,
        run_id: str,
        lock: Callable[[], Any],
        params: dict[str, str],
        tags: dict[str, str],
    ) -> str:
        found = self.find_pipeline_run(experiment_id, dag_id, run_id)
        if found:
            return found
        with lock():
            found = self.find_pipeline_run(experiment_id, dag_id, run_id)
            if found:
                return found
            run = self.call(
                "create pipeline run",
                self.client.create_run,
                experiment_id,
                run_name=run_id,
                tags={**tags, "ml_level": "pipeline", "dag_id": dag_id, "run_id": run_id},
            )
            self.log_params(str(run.info.run_id), params)
            return str(run.info.run_id)

    def start_step_run(
        self,
        experiment_id: str,
        parent_id: str,
        step: str,
        tags: dict[str, str],
        params: dict[str, str],
        start_time: float | None = None,
    ) -> str:
        """A step's child run of ``parent_id``; ``start_time`` (epoch seconds) when it started earlier."""
        run = self.call(
            "create step run",
            self.client.create_run,
            experiment_id,
            start_time=None if start_time is None else int(start_time * 1000),
            run_name=step,
            tags={"mlflow.parentRunId": parent_id, "ml_level": "step", "step": step, **tags},
        )
        run_id = str(run.info.run_id)
        self.log_params(run_id, params)
        return run_id

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        if params:
            batch = [Param(key, value[:_MAX_PARAM_LENGTH]) for key, value in sorted(params.items())]
            self.call("log params", self.client.log_batch, run_id, params=batch)

    def step_run_tags(self, experiment_id: str, dag_id: str, run_id: str) -> list[dict[str, str]]:
        """The tags of every step run of a DAG run."""
        runs = self.call(
            "search runs",
            self.client.search_runs,
            [experiment_id],
            filter_string=(
                f"tags.ml_level = 'step' and tags.dag_id = '{_quote(dag_id)}' "
                f"and tags.run_id = '{_quote(run_id)}'"
            ),
            max_results=1000,
        )
        return [dict(run.data.tags) for run in runs]

    def end_run(self, run_id: str, status: str, end_time: float | None = None) -> None:
        """End a run now, or at ``end_time`` (epoch seconds)."""
        at = None if end_time is None else int(end_time * 1000)
        self.call("end run", self.client.set_terminated, run_id, status=status, end_time=at)

    def metrics(self, run_id: str) -> dict[str, float]:
        return dict(self.call("get run", self.client.get_run, run_id).data.metrics)

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        if not metrics:
            return
        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, 0) for key, value in sorted(metrics.items())]
        self.call("log metrics", self.client.log_batch, run_id, metrics=batch)

    def roll_up(self, parent_id: str, step: str, metrics: dict[str, float]) -> None:
        """A step's final metrics onto the pipeline run as ``<step>.<metric>``."""
        self.log_metrics(parent_id, {f"{step}.{key}": value for key, value in metrics.items()})


def _quote(value: str) -> str:
    return value.replace("'", "\\'")


def _is_unreachable(error: Exception) -> bool:
    import requests

    if isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return True
    text = f"{type(error).__name__} {error}"
    return any(
        marker in text
        for marker in ("Max retries exceeded", "Connection refused", "ConnectionError", "timed out")
    )
