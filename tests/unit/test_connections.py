"""Connection types: names without "_", the old names still read (with a deprecation warning),
and forms that show each kind's own fields, whose untouched (null or empty) fields count as unset."""

from __future__ import annotations

import json
import re
import warnings

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning

from airflow_ml_provider.compute_kinds import KINDS
from airflow_ml_provider.get_provider_info import get_provider_info
from airflow_ml_provider.hooks.compute import ComputeTargetHook
from airflow_ml_provider.hooks.datastore import DatastoreHook
from airflow_ml_provider.hooks.tracking import TrackingHook


def _forms() -> dict[str, dict]:
    return {c["connection-type"]: c for c in get_provider_info()["connection-types"]}


def test_connection_type_names_are_uri_schemes():
    # RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); Airflow turns "-" into "_" in URIs.
    for conn_type in _forms():
        assert re.fullmatch(r"[a-z][a-z0-9]*", conn_type), conn_type


def test_each_compute_kind_has_its_own_form_and_hook():
    import importlib

    forms = _forms()
    for kind in KINDS.values():
        form = forms[kind.conn_type]
        assert set(form["conn-fields"]) == {option.name for option in kind.options}
        assert "kind" not in form["conn-fields"]  # the type says the kind
        module, _, name = form["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert (hook.conn_type, hook.hook_name) == (kind.conn_type, form["hook-name"])


def test_required_fields_are_standard_fields_shown_open():
    forms = _forms()
    datastore, tracking = forms["mldatastore"], forms["mltracking"]
    # The base URI is the Host field, relabelled, not an extra field in a folded section.
    assert datastore["ui-field-behaviour"]["relabeling"]["host"] == "Base URI"
    assert "host" not in datastore["ui-field-behaviour"]["hidden-fields"]
    # The tracking URI appears once: the Host field.
    labels = [field["label"] for field in tracking["conn-fields"].values()]
    assert tracking["ui-field-behaviour"]["relabeling"]["host"] == "Tracking URI"
    assert "Tracking URI" not in labels


def test_compute_form_saved_with_untouched_fields_reads_only_what_was_set(monkeypatch: pytest.MonkeyPatch):
    # What a form saves: every field, the untouched ones as null or empty.
    saved = {name: None for name in (o.name for o in KINDS["docker"].options)}
    saved.update({"image": "python:3.11", "gpus": "", "queue": "gpu"})
    monkeypatch.setenv(
        "AIRFLOW_CONN_FORM_DOCKER", json.dumps({"conn_type": "mlcomputedocker", "extra": saved})
    )

    target = ComputeTargetHook("form_docker").resolve()

    assert (target.kind, target.queue, target.options) == ("docker", "gpu", {"image": "python:3.11"})


def test_datastore_base_uri_from_the_host_field(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FORM_LAKE",
        json.dumps({"conn_type": "mldatastore", "host": "file:///data/lake", "extra": {"region_name": None}}),
    )
    resolved = DatastoreHook("form_lake").resolve()
    assert resolved.base_uri == "file:///data/lake"


@pytest.mark.parametrize(
    ("old", "extra", "new"),
    [
        ("ml_compute", {"kind": "venv", "envs_root": "/tmp/envs"}, "mlcomputevenv"),
        ("ml_datastore", {"base_uri": "file:///data/old"}, "mldatastore"),
        ("ml_tracking", {"tracking_uri": "http://mlflow:5000"}, "mltracking"),
    ],
)
def test_old_type_names_still_work_with_a_deprecation_warning(
    monkeypatch: pytest.MonkeyPatch, old: str, extra: dict, new: str
):
    conn_id = f"old_{old}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": old, "extra": extra}))

    def resolve() -> object:
        if old == "ml_compute":
            return ComputeTargetHook(conn_id).resolve()
        if old == "ml_datastore":
            return DatastoreHook(conn_id).resolve()
        return TrackingHook(conn_id).get_config()

    with pytest.warns(AirflowProviderDeprecationWarning, match=f'"{old}", which is deprecated: .*"{new}"'):
        first = resolve()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AirflowProviderDeprecationWarning)  # once per connection
        assert resolve() == first
    if old == "ml_compute":
        assert (first.kind, first.options) == ("venv", {"envs_root": "/tmp/envs"})  # type: ignore[attr-defined]


def test_a_decision_reads_each_connection_once(monkeypatch):
    # In a task every read is a round trip to the API server; the reuse sensor's decision reads a
    # datastore's connection for its input digests, its outputs and its lineage.
    from airflow.exceptions import AirflowNotFoundException

    from airflow_ml_provider.hooks.connections import each_connection_read_once, get_connection

    monkeypatch.setenv("AIRFLOW_CONN_RAW", json.dumps({"conn_type": "mldatastore", "host": "file:///data/a"}))
    with each_connection_read_once():
        assert DatastoreHook("raw").resolve().uri("x") == "file:///data/a/x"
        monkeypatch.setenv(
            "AIRFLOW_CONN_RAW", json.dumps({"conn_type": "mldatastore", "host": "file:///data/b"})
        )
        assert DatastoreHook("raw").resolve().uri("x") == "file:///data/a/x"
        for _ in range(2):  # an undefined one stays undefined
            with pytest.raises(AirflowNotFoundException):
                get_connection("nowhere")
    assert DatastoreHook("raw").resolve().uri("x") == "file:///data/b/x"  # read again after it
