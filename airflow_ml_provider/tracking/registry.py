"""Registering an EstimatorStep's model in the MLflow model registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from airflow_ml_provider.tracking.step import StepTracking


def register_model(
    tracking: StepTracking,
    name: str,
    alias: str | None,
    model_folder: Path | None,
    log: Callable[[str], None],
) -> str:
    """Register the model the script logged (else the model output folder); return the version."""
    tracker, client = tracking.tracker, tracking.tracker.client
    logged = tracker.call(
        "search logged models",
        client.search_logged_models,
        [tracking.experiment_id],
        filter_string=f"source_run_id = '{tracking.run_id}'",
    )
    try:
        client.get_registered_model(name)
    except Exception:
        tracker.call("create registered model", client.create_registered_model, name)
    if logged:
        model = max(logged, key=lambda m: m.creation_timestamp or 0)
        # The stored location, not models:/<id>: a registry on a local store would resolve that
        # through the process-global tracking URI, not this client's.
        source, model_id = model.artifact_location, model.model_id
    else:
        if model_folder is None or not model_folder.exists():
            raise ValueError(
                f'register_model="{name}": the script logged no model and there is no local model '
                "output folder to register."
            )
        tracker.call("log model folder", client.log_artifacts, tracking.run_id, str(model_folder), "model")
        run = tracker.call("get run", client.get_run, tracking.run_id)
        source, model_id = f"{run.info.artifact_uri}/model", None
    version = tracker.call(
        "create model version",
        client.create_model_version,
        name,
        source,
        run_id=tracking.run_id,
        model_id=model_id,
    )
    if alias:
        tracker.call("set alias", client.set_registered_model_alias, name, alias, str(version.version))
    log(f'registered model "{name}" version {version.version}' + (f' with alias "{alias}"' if alias else ""))
    return str(version.version)
