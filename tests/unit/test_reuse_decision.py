"""The reuse sensor's decision (``sensors/decision.py``) on a real step cache, without Airflow runs.

The decision is a function of the step, its pre-image, the cache and the lease: each outcome the
sensor acts on (reuse, wait, run and why) is checked here against a SQLite step cache and real
output folders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from airflow_ml_provider import PipelineData, PythonScriptStep
from airflow_ml_provider.caching.fingerprint import UnfingerprintableError, base_key, fingerprint
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import CacheEntry, Decision, StepCacheStore
from airflow_ml_provider.handoff import LeaseHolder, OutputReference, ProducedBy, ResultOrigin
from airflow_ml_provider.lineage import step_input_uris
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.sensors.decision import REUSE, RUN, WAIT, Outcome, decide
from airflow_ml_provider.step_kinds.kinds import step_pre_image

PRE_IMAGE = {"version": 1, "step": {"name": "train"}, "params": {"C": "1.0"}}


@pytest.fixture
def store(tmp_path: Path) -> StepCacheStore:
    return StepCacheStore(f"sqlite:///{tmp_path / 'step-cache.db'}")


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[StatCache]:
    cache = StatCache(tmp_path / "stat-cache.db")
    yield cache
    cache.close()


def train_step(tmp_path: Path, **kwargs: object) -> PythonScriptStep:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print('train')\n")
    return PythonScriptStep(name="train", script_name="train.py", source_directory=str(code), **kwargs)  # type: ignore[arg-type]


def cache_result(store: StepCacheStore, tmp_path: Path, pre_image: dict[str, object]) -> Path:
    """An earlier run's result of ``train`` under ``pre_image``: an output folder and its entry."""
    model = tmp_path / "outputs" / "model"
    model.mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    content = path_digest(model)
    put_result(store, pre_image, model.as_uri(), content.digest, content.size, content.files, "mlflow-run-1")
    return model


def put_result(
    store: StepCacheStore,
    pre_image: dict[str, object],
    uri: str,
    digest: str,
    size: int,
    files: int,
    mlflow_run_id: str | None,
) -> None:
    """The step cache's entry for ``train``'s output ``model`` at ``uri`` under ``pre_image``."""
    produced_by = ProducedBy("wine", "run_1", "train.run", 1)
    reference = OutputReference(uri, digest, size, files, produced_by)
    base = base_key(pre_image)
    store.put_pre_image(base, pre_image)
    store.put(
        CacheEntry(
            fingerprint(base, {}),
            base,
            "wine",
            "train",
            dict(pre_image),
            {},
            {"model": reference.to_json()},
            ResultOrigin(produced_by, mlflow_run_id).to_json(),
            time.time(),
        )
    )


def decided(
    step: PythonScriptStep,
    store: StepCacheStore,
    stat_cache: StatCache,
    *,
    pre_image: dict[str, object] = PRE_IMAGE,
    regenerate: bool = False,
    holder: str | None = None,
    warnings: list[str] | None = None,
) -> Outcome:
    return decide(
        step,
        dict(pre_image),
        dag_id="wine",
        store=store,
        stat_cache=stat_cache,
        regenerate=regenerate,
        lease=lambda base: holder,
        evict=True,
        warn=(warnings if warnings is not None else []).append,
    )


def test_a_step_with_no_earlier_result_runs(tmp_path: Path, store: StepCacheStore, stats: StatCache) -> None:
    outcome = decided(train_step(tmp_path), store, stats)
    assert (outcome.decision, outcome.message) == (RUN, "run: no earlier result of this step in the cache")
    assert outcome.base == base_key(PRE_IMAGE) and outcome.hit is None


def test_an_intact_earlier_result_is_reused(tmp_path: Path, store: StepCacheStore, stats: StatCache) -> None:
    cache_result(store, tmp_path, PRE_IMAGE)
    outcome = decided(train_step(tmp_path), store, stats)
    assert outcome.decision == REUSE
    assert outcome.message == "reused from run run_1 (task train.run, attempt 1)"
    assert outcome.hit is not None and outcome.hit.entry.origin.mlflow_run_id == "mlflow-run-1"


def test_a_result_whose_output_is_gone_is_evicted_and_the_step_reruns(
    tmp_path: Path, store: StepCacheStore, stats: StatCache
) -> None:
    model = cache_result(store, tmp_path, PRE_IMAGE)
    (model / "weights.bin").unlink()
    model.rmdir()
    warnings: list[str] = []
    outcome = decided(train_step(tmp_path), store, stats, warnings=warnings)
    assert outcome.decision == RUN and outcome.message.startswith('re-run: output "model" is gone from')
    assert warnings and "evicted" in warnings[0]
    assert store.candidates(base_key(PRE_IMAGE)) == []


def test_a_changed_parameter_is_named(tmp_path: Path, store: StepCacheStore, stats: StatCache) -> None:
    cache_result(store, tmp_path, PRE_IMAGE)
    changed = {**PRE_IMAGE, "params": {"C": "0.5"}}
    outcome = decided(train_step(tmp_path), store, stats, pre_image=changed)
    assert outcome.decision == RUN and "1.0 -> 0.5" in outcome.message


def test_another_run_holding_the_lease_is_waited_for(
    tmp_path: Path, store: StepCacheStore, stats: StatCache
) -> None:
    outcome = decided(train_step(tmp_path), store, stats, holder="wine|run_2|train")
    assert outcome.decision == WAIT
    assert outcome.holder == LeaseHolder("wine", "run_2", "train")
    assert outcome.message.startswith("run run_2 is computing the same fingerprint")


def test_reuse_turned_off_runs_even_with_an_intact_result(
    tmp_path: Path, store: StepCacheStore, stats: StatCache
) -> None:
    cache_result(store, tmp_path, PRE_IMAGE)
    assert decided(train_step(tmp_path, allow_reuse=False), store, stats).message == "run: allow_reuse=False"
    regenerated = decided(train_step(tmp_path), store, stats, regenerate=True)
    assert (regenerated.decision, regenerated.message) == (RUN, "run: regenerate_outputs is set for this run")


def test_the_interpreter_a_venv_step_names_is_part_of_its_fingerprint(
    tmp_path: Path, stats: StatCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Environment(python=...)`` chooses the interpreter a venv target builds the step's
    virtualenv from; another interpreter (or another version behind the same name) re-runs it."""
    import json
    import platform

    from airflow_ml_provider.pipeline.environment import Environment
    from airflow_ml_provider.step_kinds.kinds import step_pre_image

    monkeypatch.setenv("AIRFLOW_CONN_ML_VENV_PY", json.dumps({"conn_type": "mlcomputevenv"}))
    interpreter = tmp_path / "bin" / "python"
    interpreter.parent.mkdir()

    def python_part(version: str | None) -> object:
        environment = None
        if version is not None:
            interpreter.write_text(f"#!/bin/sh\necho '{version} (a stand-in interpreter)'\n")
            interpreter.chmod(0o755)
            environment = Environment(python=str(interpreter))
        step = train_step(tmp_path, compute_target="ml_venv_py", environment=environment)
        return step_pre_image(step, {}, lambda data: "", stats)["environment"]["python"]

    assert python_part(None) == platform.python_version()
    first, second = python_part("3.12.1"), python_part("3.13.0")
    assert first != second
    assert "3.12.1" in str(first) and "3.13.0" in str(second)


def test_a_decision_is_written_in_one_commit(store: StepCacheStore) -> None:
    # Each commit syncs the database to disk: on a busy machine the larger part of a hit's write.
    commits: list[object] = []
    count = commits.append
    event.listen(store.engine, "commit", count)
    try:
        base = base_key(PRE_IMAGE)
        store.record(Decision("wine", "run_2", "train", "reused", "reused", base, PRE_IMAGE, time.time()))
    finally:
        event.remove(store.engine, "commit", count)
    assert len(commits) == 1
    assert [d.pre_image for d in store.decisions("wine", "train")] == [PRE_IMAGE]


def test_a_hits_lineage_uses_the_references_its_fingerprint_read(tmp_path: Path) -> None:
    # No task instance: a pull from XCom would fail; the references read for the fingerprint are used.
    prepared = PipelineData("prepared")
    step = train_step(tmp_path, inputs=[prepared])
    produced_by = ProducedBy("wine", "run_1", "prepare.run", 1)
    reference = OutputReference("file:///data/prepared", "0" * 64, 1, 1, produced_by)
    assert step_input_uris(step, None, None, {}, {"prepared": reference}) == ["file:///data/prepared"]


def test_the_fingerprint_reads_no_connection_of_the_outputs_datastores(
    tmp_path: Path, stats: StatCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each connection read is a round trip to the API server in a task: a hit on local outputs
    # needs none for its outputs (the pre-image names their datastores; it does not resolve them).
    from airflow_ml_provider.hooks import datastore as datastore_hooks

    reads: list[str] = []
    read = datastore_hooks.get_connection
    monkeypatch.setattr(datastore_hooks, "get_connection", lambda name: reads.append(name) or read(name))
    step = train_step(tmp_path, outputs=[PipelineData("model", datastore="lake_not_defined")])
    pre_image = step_pre_image(step, {}, lambda data: "", stats)
    assert reads == []
    assert "lake_not_defined" in json.dumps(pre_image)


def test_a_remote_hit_whose_datastore_cannot_be_resolved_leaves_the_step_uncached(
    tmp_path: Path, store: StepCacheStore, stats: StatCache
) -> None:
    # Verifying an output on a remote store needs its datastore's options, resolved when asked.
    put_result(store, PRE_IMAGE, "s3://bucket/out/model", "blake3:" + "0" * 64, 64, 1, None)
    step = train_step(tmp_path, outputs=[PipelineData("model", datastore="lake_not_defined")])
    with pytest.raises(
        UnfingerprintableError, match='output "model": datastore "lake_not_defined" is not defined'
    ):
        decided(step, store, stats)
    assert store.candidates(base_key(PRE_IMAGE)) != []  # not evicted: nothing says the output changed
