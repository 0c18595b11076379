"""What a pipeline run recorded in MLflow, for the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_ml_provider.hooks.tracking_config import resolve
from airflow_ml_provider.hooks.tracking_credentials import shown
from airflow_ml_provider.tracking.runs import Tracker


@dataclass
class TrackingSummary:
    tracking_uri: str
    experiment: str
    experiment_id: str | None = None
    parent_run_id: str | None = None
    parent_status: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    ui_hint: str = ""


def tracking_summary(dag_id: str, run_id: str, experiment_name: str) -> TrackingSummary:
    config = resolve()
    tracker = Tracker(config)
    summary = TrackingSummary(shown(config.uri), experiment_name)
    if config.uri.startswith("sqlite:"):
        summary.ui_hint = f"mlflow ui --backend-store-uri {config.uri}"
    elif config.ui_url:
        summary.ui_hint = config.ui_url
    experiment = tracker.call("get experiment", tracker.client.get_experiment_by_name, experiment_name)
    if experiment is None:
        return summary
    summary.experiment_id = str(experiment.experiment_id)
    parent = tracker.find_pipeline_run(summary.experiment_id, dag_id, run_id)
    if parent:
        run = tracker.call("get run", tracker.client.get_run, parent)
        summary.parent_run_id, summary.parent_status = parent, run.info.status
        summary.metrics = dict(run.data.metrics)
    return summary
