"""The run operator's skeleton (``operators/base.py``) on a real step cache, without Airflow runs.

claim -> attempt record -> lease keeper -> produce -> references -> commit, driven through a
small step kind whose ``produce()`` writes one output, against a SQLite step cache in a temporary
folder. The task instance is a plain object (XCom in a dict, the ids a task instance carries):
this checks the base's own order of work on its own; real task instances, through real Airflow
runs of both step kinds, are in tests/airflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_ml_provider import PythonScriptStep
from airflow_ml_provider.caching.fingerprint import base_key, fingerprint
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.handoff import (
    FINGERPRINT_KEY,
    FingerprintClaim,
    LeaseHolder,
    OutputReference,
    ProducedBy,
)
from airflow_ml_provider.operators.base import Attempt, Produced, StepRunBase
from airflow_ml_provider.rendered import RenderedPipeline, StepTasks
from airflow_ml_provider.runtime.digest import path_digest

PRE_IMAGE = {"version": 1, "step": {"name": "train"}, "params": {"C": "1.0"}}
BASE = base_key(PRE_IMAGE)
HOLDER = LeaseHolder("wine", "run_1", "train")


@dataclass
class PlainTaskInstance:
    """What the base reads of a task instance: its ids, its try number, XCom (a dict), and its
    template context (for the DAG run's conf: this run has none)."""

    dag_id: str = "wine"
    run_id: str = "run_1"
    task_id: str = "train.run"
    try_number: int = 1
    xcom: dict[tuple[str, str], Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return self.xcom.get((task_ids, key))

    def get_template_context(self) -> dict[str, Any]:
        return {"ti": self, "params": {}, "dag_run": None}


class WriteModel(StepRunBase):
    """A step kind that writes ``model/weights.bin``, or fails when told to, and notes who
    held the claim's lease while it was producing."""

    def __init__(self, *, model_folder: Path, fail: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_folder, self.fail = model_folder, fail
        self.holder_while_producing: str | None = None

    def prepare(self, context: Any, work: Path) -> Attempt:
        return Attempt(work, [], [str(self.model_folder)], "local", {})

    def produce(self, context: Any, attempt: Attempt, tracking: Any) -> Produced:
        self.holder_while_producing = StepCacheStore().live_holder(BASE)
        if self.fail:
            raise RuntimeError("the step failed")
        self.model_folder.mkdir(parents=True)
        (self.model_folder / "weights.bin").write_bytes(b"\x01" * 32)
        content = path_digest(self.model_folder)
        reference = OutputReference(
            self.model_folder.as_uri(),
            content.digest,
            content.size,
            content.files,
            ProducedBy.of(context["ti"]),
        )
        return Produced({"model": reference}, [], self.step.source_directory)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StepCacheStore]:
    """The step cache the operator opens by itself (``StepCacheStore()``), in ``tmp_path``, with
    the pre-image and the lease the step's reuse sensor left for this run."""
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_URL", f"sqlite:///{tmp_path / 'step-cache.db'}")
    cache = StepCacheStore()
    cache.put_pre_image(BASE, PRE_IMAGE)
    assert cache.try_lease(BASE, str(HOLDER), 60) is None
    yield cache


def run_task(tmp_path: Path, *, fail: bool = False) -> tuple[WriteModel, PlainTaskInstance, Any]:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print('train')\n")
    step = PythonScriptStep(name="train", script_name="train.py", source_directory=str(code), tracking="off")
    pipeline = RenderedPipeline(dag_id="wine", tasks={"train": StepTasks(None, "train.reuse", "train.run")})
    ti = PlainTaskInstance()
    ti.xcom[("train.reuse", FINGERPRINT_KEY)] = FingerprintClaim(BASE, HOLDER).to_json()
    operator = WriteModel(
        task_id="train.run", step=step, pipeline=pipeline, model_folder=tmp_path / "out" / "model", fail=fail
    )
    context = ti.get_template_context()
    try:
        return operator, ti, operator.execute(context)  # type: ignore[arg-type]
    except RuntimeError as error:
        return operator, ti, error


def test_the_result_is_committed_under_the_claim_and_the_lease_held_while_producing_is_released(
    tmp_path: Path, store: StepCacheStore
) -> None:
    operator, _, returned = run_task(tmp_path)

    assert operator.holder_while_producing == str(HOLDER)
    assert store.live_holder(BASE) is None
    (entry,) = store.candidates(BASE)
    assert (entry.base_key, entry.dag_id, entry.step, entry.pre_image) == (BASE, "wine", "train", PRE_IMAGE)
    # The script imported nothing outside its folder: the fingerprint is the claim's base alone.
    assert entry.fingerprint == fingerprint(BASE, {})
    reference = OutputReference.from_json(entry.outputs["model"])
    assert reference.uri == (tmp_path / "out" / "model").as_uri()
    assert reference.digest == path_digest(tmp_path / "out" / "model").digest
    assert entry.origin.produced_by == ProducedBy("wine", "run_1", "train.run", 1)
    assert entry.origin.mlflow_run_id is None  # tracking="off"
    # What the task returns (its XCom) is what was committed.
    assert returned == entry.outputs


def test_a_failing_produce_commits_nothing_and_releases_the_lease(
    tmp_path: Path, store: StepCacheStore
) -> None:
    operator, _, raised = run_task(tmp_path, fail=True)

    assert isinstance(raised, RuntimeError) and str(raised) == "the step failed"
    assert operator.holder_while_producing == str(HOLDER)
    assert store.candidates(BASE) == []
    assert store.live_holder(BASE) is None
    assert not (tmp_path / "out" / "model").exists()
