"""DatastoreSchedule's parts without a triggerer: what counts as a change, which path a run gets,
the Asset it builds, and its errors at parse time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_ml_provider import DatastoreSchedule, PipelineDefinitionError
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.schedules.parameters import changed_path_parameters
from airflow_ml_provider.triggers.datastore_change import DatastoreChangeTrigger, change_payload
from airflow_ml_provider.triggers.manifest import changed_files, common_folder, local_manifest


def test_changes_are_judged_by_content_in_subfolders_too(tmp_path: Path) -> None:
    root = tmp_path / "incoming"
    (root / "2026").mkdir(parents=True)
    (root / "a.csv").write_text("a\n")
    cache = StatCache(tmp_path / "stat.db")
    first = local_manifest(root, cache)
    assert changed_files(None, first) == []  # the first look is the baseline

    (root / "a.csv").unlink()
    (root / "a.csv").write_text("a\n")  # the same bytes: new inode, new mtime
    os.utime(root / "a.csv", ns=(1, 1))
    second = local_manifest(root, cache)
    assert changed_files(first, second) == []

    (root / "2026" / "b.csv").write_text("b\n")
    (root / "a.csv").write_text("A\n")
    third = local_manifest(root, cache)
    assert changed_files(second, third) == ["2026/b.csv", "a.csv"]
    assert changed_files(third, local_manifest(root, cache)) == []
    assert local_manifest(root / "a.csv", cache) == {"": third["a.csv"]}
    assert local_manifest(tmp_path / "missing", cache) == {}


def test_a_run_gets_the_changed_file_or_the_folder_holding_all_changes() -> None:
    assert common_folder(["in/2026/a.csv"]) == "in/2026/a.csv"
    assert common_folder(["in/2026/a.csv", "in/2026/b.csv"]) == "in/2026"
    assert common_folder(["in/2026/a.csv", "in/b.csv"]) == "in"
    assert common_folder(["a.csv", "b/c.csv"]) == ""

    payload = change_payload("landing", "in/", ["2026/a.csv"], {"2026/a.csv": "blake3:1"}, "input_path")
    assert (payload["path"], payload["paths"], payload["digests"]) == (
        "in/2026/a.csv",
        ["in/2026/a.csv"],
        {"in/2026/a.csv": "blake3:1"},
    )
    single = change_payload("landing", "in/a.csv", [""], {"": "blake3:2"}, "input_path")
    assert single["path"] == "in/a.csv"

    later = change_payload("landing", "in", ["b.csv"], {"b.csv": "blake3:3"}, "input_path")
    other = {"payload": {"kind": "something else", "parameter": "x", "path": "y"}}
    assert changed_path_parameters([{"payload": payload}, other]) == {"input_path": "in/2026/a.csv"}
    assert changed_path_parameters([{"payload": payload}, {"payload": later}]) == {"input_path": "in"}
    no_parameter = change_payload("landing", "in", ["b.csv"], {"b.csv": "blake3:3"}, None)
    assert changed_path_parameters([{"payload": no_parameter}]) == {}


def test_the_schedule_is_an_asset_watched_by_the_trigger() -> None:
    asset = DatastoreSchedule(
        "landing", "/incoming/", polling_interval=0.5, data_path_parameter_name="input_path"
    )
    assert asset.uri == "x-ml-datastore://landing/incoming?every=30s&parameter=input_path"
    [watcher] = asset.watchers
    assert isinstance(watcher.trigger, DatastoreChangeTrigger)
    assert watcher.trigger.serialize() == (
        "airflow_ml_provider.triggers.datastore_change.DatastoreChangeTrigger",
        {
            "datastore": "landing",
            "path_on_datastore": "incoming",
            "polling_seconds": 30.0,
            "parameter": "input_path",
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"polling_interval": 0}, "polling_interval"),
        ({"datastore": ""}, "datastore"),
        ({"path_on_datastore": "../elsewhere"}, "path_on_datastore"),
        ({"data_path_parameter_name": "has space"}, "data_path_parameter_name"),
    ],
)
def test_mistakes_are_refused_when_the_dag_is_parsed(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(PipelineDefinitionError) as raised:
        DatastoreSchedule(**kwargs)  # type: ignore[arg-type]
    assert raised.value.argument == argument
