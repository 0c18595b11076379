"""The example pipelines through real Airflow runs (dag.test) on a SQLite metadata DB."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.runtime.staging import local_path


def _published_path(reference: dict) -> Path:
    path = local_path(reference["uri"])
    assert path is not None
    return path


def test_data_dependency_runs_in_data_order_and_publishes_references(airflow_db):
    dag_run, steps = run_pipeline("data_dependency", {"pipeline_arg": 3})

    assert str(dag_run.state) == "success"
    assert [(s.name, s.status) for s in steps] == [("train", "ran"), ("extract", "ran"), ("compare", "ran")]
    by_name = {s.name: s for s in steps}
    comparison_ref = by_name["compare"].outputs["processed_data3"]
    assert set(comparison_ref) == {"uri", "digest", "size", "files", "produced_by"}
    assert comparison_ref["produced_by"] == {
        "dag_id": "data_dependency",
        "run_id": dag_run.run_id,
        "task_id": "compare.run",
        "try": 1,
    }
    comparison = json.loads((_published_path(comparison_ref) / "comparison.json").read_text())
    assert comparison["pipeline_param"] == "3"
    assert comparison["lines"] == 40
    assert len(comparison["top_words"]) == 3
    words = (_published_path(by_name["extract"].outputs["processed_data2"]) / "words.txt").read_text()
    assert comparison["distinct_words"] == len(words.splitlines())
    for summary in steps:
        for reference in summary.outputs.values():
            content = path_digest(_published_path(reference))
            assert reference["digest"] == content.digest
            assert (reference["size"], reference["files"]) == (content.size, content.files)


def test_wine_pipeline_trains_evaluates_and_scores(airflow_db):
    dag_run, steps = run_pipeline("wine_classifier")

    assert str(dag_run.state) == "success"
    assert [(s.name, s.status) for s in steps] == [
        ("fetch", "ran"),
        ("ingest", "ran"),
        ("featurize", "ran"),
        ("train", "ran"),
        ("evaluate", "ran"),
        ("score", "ran"),
    ]
    outputs = {name: ref for s in steps for name, ref in s.outputs.items()}
    metrics = json.loads((_published_path(outputs["metrics"]) / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.85
    assert metrics["n_test"] == 36
    predictions = (_published_path(outputs["predictions"]) / "predictions.csv").read_text().splitlines()
    assert predictions[0] == "id,prediction"
    assert len(predictions) == 1 + 36
    assert (_published_path(outputs["model"]) / "model.pkl").stat().st_size > 0
    # Outputs of one run never share a location with another step's or run's.
    assert len({ref["uri"] for ref in outputs.values()}) == len(outputs)
    assert all(dag_run.run_id.replace(":", "_").replace("+", "_") in ref["uri"] for ref in outputs.values())
