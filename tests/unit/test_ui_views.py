"""What the pipeline views show, from plain values: step status, data edges, comparisons, and
looking into outputs without leaving them."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_ml_provider.plugins.outputs import OutputLocation, OutputPathError, inside, preview, read_chunks
from airflow_ml_provider.plugins.views import (
    StepRecord,
    TaskState,
    compare_runs,
    data_edges,
    run_view,
    step_status,
)


@pytest.mark.parametrize(
    ("reuse", "run", "status"),
    [
        ("success", "success", "ran"),
        ("success", "skipped", "reused"),
        ("up_for_reschedule", None, "waiting"),
        ("deferred", None, "waiting"),
        ("success", "running", "running"),
        ("queued", None, "queued"),
        ("success", "failed", "failed"),
        ("upstream_failed", "upstream_failed", "upstream_failed"),
        (None, None, "not started"),
    ],
)
def test_a_step_status_reads_both_of_its_tasks(reuse: str | None, run: str | None, status: str) -> None:
    assert step_status(reuse, run) == status


def _step(name: str, inputs: list[tuple[str, str]], outputs: list[str]) -> dict:
    return {
        "name": name,
        "kind": "python_script",
        "inputs": [{"name": n, "kind": k, "datastore": "default", "path": "raw.csv"} for n, k in inputs],
        "outputs": [{"name": n, "kind": "pipeline_data"} for n in outputs],
    }


STEPS = [
    _step("prepare", [("raw", "reference")], ["table"]),
    _step("fit", [("table", "pipeline_data")], ["model"]),
    _step("report", [("model", "pipeline_data")], []),
]


def test_edges_carry_the_data_between_steps_and_ordering_edges_carry_none() -> None:
    edges = data_edges(STEPS, {"fit": {"prepare"}, "report": {"fit", "prepare"}})

    assert edges == [
        {"source": "data:raw", "target": "prepare", "data": "raw"},
        {"source": "prepare", "target": "fit", "data": "table"},
        {"source": "fit", "target": "report", "data": "model"},
        {"source": "prepare", "target": "report", "data": None},
    ]


class _Decision:
    def __init__(self, decision: str, message: str, base_key: str, pre_image: dict) -> None:
        self.decision, self.message, self.base_key, self.pre_image, self.at = (
            decision,
            message,
            base_key,
            pre_image,
            0.0,
        )


def _view(fit_key: str, alpha: str, fit_state: str) -> tuple[dict, list[StepRecord]]:
    records = [
        StepRecord(
            STEPS[0],
            TaskState("success"),
            TaskState("skipped"),
            {"return_value": {"table": {"uri": "file:///t", "digest": "blake3:aa"}}},
            _Decision("reused", "reused from run r1", "k1", {"version": 1, "params": {}}),
        ),
        StepRecord(
            STEPS[1],
            TaskState("success"),
            TaskState(fit_state),
            {"return_value": {"model": {"uri": "file:///m", "digest": f"blake3:{fit_key}"}}},
            _Decision("run", "re-run", fit_key, {"version": 1, "params": {"alpha": alpha}}),
        ),
    ]
    return run_view(records, {"fit": {"prepare"}}, {"run_id": fit_key}), records


def test_two_runs_compared_say_which_step_changed_and_why() -> None:
    (before, before_records), (after, after_records) = (
        _view("k2", "0.1", "success"),
        _view("k3", "0.2", "success"),
    )
    pre_images = {
        r.description["name"]: (r.decision.pre_image, a.decision.pre_image)
        for r, a in zip(before_records, after_records, strict=True)
    }

    rows = {row["step"]: row for row in compare_runs(before, after, pre_images)}

    assert rows["prepare"]["changed"] is False
    assert rows["fit"]["changed"] is True
    assert rows["fit"]["reasons"] == ['parameter "alpha" changed (0.1 -> 0.2)']
    assert rows["fit"]["outputs_changed"] == ["model"]
    assert before["steps"][0]["status"] == "reused"


def test_outputs_are_previewed_and_read_only_inside_themselves(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "table.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "sub" / "metrics.json").write_text('{"accuracy": 0.9}')
    (tmp_path / "secret.txt").write_text("not yours")
    location = OutputLocation(folder.as_uri(), {})

    listing = preview(location)
    table = preview(location, "table.csv")
    metrics = preview(location, "sub/metrics.json")

    assert [f["path"] for f in listing["files"]] == ["sub/metrics.json", "table.csv"]
    assert table["kind"] == "table" and table["rows"] == [["a", "b"], ["1", "2"], ["3", "4"]]
    assert metrics["kind"] == "json" and '"accuracy": 0.9' in metrics["text"]
    for escape in ("../secret.txt", "/etc/passwd", "sub/../../secret.txt"):
        with pytest.raises(OutputPathError):
            preview(location, escape)
        with pytest.raises(OutputPathError):
            read_chunks(location, escape)
    name, chunks = read_chunks(location, "table.csv")
    assert (name, b"".join(chunks)) == ("table.csv", b"a,b\n1,2\n3,4\n")
    assert inside("/data/out", "a/b.txt") == "/data/out/a/b.txt"
