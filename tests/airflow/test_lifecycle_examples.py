"""The lifecycle examples in dags/: what they are scheduled on, and a run of each (dag.test)."""

from __future__ import annotations

import json
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

from airflow_ml_provider import Datastore, output_asset
from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.triggers.datastore_change import DatastoreChangeTrigger

REPO = Path(__file__).resolve().parents[2]


def test_examples_are_scheduled_on_data_and_on_the_model(airflow_db, dags_folder: Path) -> None:
    bag = DagBag(dag_folder=str(dags_folder), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    [watcher] = bag.dags["landing_zone"].timetable.asset_condition.watchers
    assert isinstance(watcher.trigger, DatastoreChangeTrigger)
    assert (watcher.trigger.datastore, watcher.trigger.path_on_datastore) == ("default", "landing")
    assert bag.dags["wine_model_report"].timetable.asset_condition == output_asset("wine_classifier/model")
    train = bag.dags["wine_classifier"].get_task("train.run")
    assert train.outlets == [output_asset("wine_classifier/model")]


def test_landing_zone_profiles_the_changed_file(airflow_db) -> None:
    Datastore().upload_files(
        [REPO / "dags" / "wine" / "data" / "holdout.csv"], "landing/2026", show_progress=False
    )
    dag_run, steps = run_pipeline("landing_zone", {"new_data": "landing/2026/holdout.csv"})
    assert str(dag_run.state) == "success", steps
    folder = local_path(steps[0].outputs["profile"]["uri"])
    assert folder is not None
    profile = json.loads((folder / "profile.json").read_text())
    assert profile["changed"] == "landing/2026/holdout.csv"
    assert list(profile["files"]) == ["2026/holdout.csv"] and profile["files"]["2026/holdout.csv"]["rows"] > 0


def test_wine_model_report_reads_the_model_it_is_given(airflow_db, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.pkl").write_bytes(b"\0" * 10)
    dag_run, steps = run_pipeline("wine_model_report", {"model_uri": model.as_uri()})
    assert str(dag_run.state) == "success", steps
    folder = local_path(steps[0].outputs["report"]["uri"])
    assert folder is not None
    assert json.loads((folder / "report.json").read_text()) == {
        "model": model.as_uri(),
        "files": {"model.pkl": 10},
    }
