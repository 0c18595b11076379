"""``airflow-ml status`` says what a run would do, and the real run that follows does it.

Status is read-only: the step cache's decisions, leases and entries are the same after it.
Each test works on its own copy of the wine pipeline (see test_reuse.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from test_reuse import STEPS, WineCopy, append, replace_once, wine_copy  # noqa: F401 (a fixture)

from airflow_ml_provider.caching import store as cache_store
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.status import StepStatus, find_pipeline, pipeline_status


def status_of(copy: WineCopy, conf: dict[str, Any] | None = None) -> dict[str, StepStatus]:
    dag = find_pipeline(copy.dag_id, copy.dag_file)
    assert dag is not None
    return {step.name: step for step in pipeline_status(dag, run_conf=conf)}


def cache_rows() -> dict[str, Any]:
    """Everything status must leave as it was."""
    engine = StepCacheStore().engine
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar()
            for table in (cache_store.entries, cache_store.leases, cache_store.decisions)
        } | {"leases": list(connection.execute(select(cache_store.leases)))}


def agrees(status: dict[str, StepStatus], statuses: dict[str, str]) -> None:
    """Reuse was reused, run ran; a step decided after its upstream may go either way."""
    for step, said in status.items():
        if said.decision == "reuse":
            assert statuses[step] == "reused", (step, said)
        elif said.decision == "run":
            assert statuses[step] == "ran", (step, said)


def test_status_of_an_unchanged_pipeline_is_reuse_everywhere_and_changes_nothing(wine_copy):  # noqa: F811
    copy = wine_copy("status_unchanged")
    first = copy.first_run()
    before = cache_rows()

    status = status_of(copy)

    assert {step: said.decision for step, said in status.items()} == dict.fromkeys(STEPS, "reuse")
    assert status["train"].message == f"reused from run {first.run_id} (task train.run, attempt 1)"
    assert cache_rows() == before
    second = copy.run()
    agrees(status, second.statuses)


def test_status_after_an_edit_says_what_the_run_then_does(wine_copy):  # noqa: F811
    copy = wine_copy("status_edit")
    copy.first_run()
    train = copy.step_file("train")
    replace_once(
        train, 'default=1000, help="solver iteration limit"', 'default=2000, help="solver iterations"'
    )
    append(copy.step_file("featurize"), "# reviewed\n")
    before = cache_rows()

    status = status_of(copy)

    assert {step: said.decision for step, said in status.items()} == {
        "fetch": "reuse",
        "ingest": "reuse",
        "featurize": "run",
        "train": "after",
        "evaluate": "after",
        "score": "after",
    }
    assert cache_rows() == before
    run = copy.run()
    agrees(status, run.statuses)
    assert run.statuses["train"] == "ran"  # featurize's output came out the same; train.py changed
    recorded = copy.decisions("featurize", run)
    assert [d.message for d in recorded] == [status["featurize"].message]
    assert "featurize.py changed" in status["featurize"].message


def test_status_sees_a_parameter_and_a_lease_held_by_another_run(wine_copy):  # noqa: F811
    copy = wine_copy("status_lease")
    copy.first_run()
    (entry,) = copy.entries("fetch")
    store = StepCacheStore()
    assert store.try_lease(entry.base_key, f"{copy.dag_id}|other_run|fetch", 300) is None
    before = cache_rows()

    status = status_of(copy, {"C": 0.5})

    assert status["fetch"].decision == "reuse"  # a hit is reused whoever holds a lease
    assert status["train"].decision == "run"
    assert 'parameter "C" changed (1.0 -> 0.5)' in status["train"].message
    assert status["evaluate"].decision == "after"
    assert cache_rows() == before
    store.release_lease(entry.base_key, f"{copy.dag_id}|other_run|fetch")
    # The copy of one file is a file (a DataTransferStep whose source_reference_type is left out
    # detects it), so the output is removed as whatever it is.
    published = Path(copy.run().published("raw_wine"))
    shutil.rmtree(published) if published.is_dir() else published.unlink()
    assert store.try_lease(entry.base_key, f"{copy.dag_id}|other_run|fetch", 300) is None
    status = status_of(copy)
    assert status["fetch"].decision == "wait"
    assert "run other_run is computing the same fingerprint" in status["fetch"].message
    assert status["ingest"].decision == "after"
    assert store.live_holder(entry.base_key) == f"{copy.dag_id}|other_run|fetch"
    store.release_lease(entry.base_key, f"{copy.dag_id}|other_run|fetch")


def test_status_command_prints_each_step(wine_copy, dags_folder: Path):  # noqa: F811
    copy = wine_copy("status_cli")
    copy.first_run()
    result = subprocess.run(
        [sys.executable, "-c", "from airflow_ml_provider.cli import main; main()", "status", copy.dag_id],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 of 6 steps would be reused" in result.stdout
    unknown = subprocess.run(
        [sys.executable, "-c", "from airflow_ml_provider.cli import main; main()", "status", "no_such_dag"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 2 and 'pipeline "no_such_dag" was not found' in unknown.stdout
