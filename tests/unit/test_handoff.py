"""The records that cross task boundaries keep the JSON form XCom and the step cache hold."""

from __future__ import annotations

import json
from types import SimpleNamespace

from airflow_ml_provider.handoff import (
    FingerprintClaim,
    LeaseHolder,
    OutputReference,
    ProducedBy,
    ResultOrigin,
    references_to_json,
)

# As written to XCom and to the step cache before these records existed.
STORED_REFERENCE = {
    "uri": "s3://lake/pipeline-data/wine/run_1/train/attempt-2/model",
    "digest": "blake3:abc",
    "size": 120,
    "files": 3,
    "produced_by": {"dag_id": "wine", "run_id": "run_1", "task_id": "train.run", "try": 2},
    "store_digest": "etag:123",
}


def test_an_output_reference_reads_and_writes_the_stored_form_unchanged() -> None:
    reference = OutputReference.from_json(STORED_REFERENCE)
    assert reference.produced_by == ProducedBy("wine", "run_1", "train.run", 2)
    assert json.dumps(reference.to_json()) == json.dumps(STORED_REFERENCE)
    local = {key: value for key, value in STORED_REFERENCE.items() if key != "store_digest"}
    assert json.dumps(OutputReference.from_json(local).to_json()) == json.dumps(local)
    assert references_to_json({"model": reference}) == {"model": STORED_REFERENCE}


def test_produced_by_is_the_task_attempt() -> None:
    ti = SimpleNamespace(dag_id="wine", run_id="run_1", task_id="train.run", try_number=2)
    assert ProducedBy.of(ti).to_json() == STORED_REFERENCE["produced_by"]
    assert ProducedBy.from_json(None) == ProducedBy("", "", "", 0)


def test_a_result_origin_adds_the_mlflow_run_and_model_version_to_the_attempt() -> None:
    attempt = ProducedBy("wine", "run_1", "train.run", 2)
    stored = {**attempt.to_json(), "mlflow_run_id": "r1", "model_version": "4"}
    assert ResultOrigin(attempt, "r1", "4").to_json() == stored
    assert ResultOrigin.from_json(stored) == ResultOrigin(attempt, "r1", "4")
    assert ResultOrigin(attempt, None).to_json() == {**attempt.to_json(), "mlflow_run_id": None}


def test_lease_holders_and_claims_keep_their_stored_form() -> None:
    assert str(LeaseHolder("wine", "manual__2026-01-01T00:00:00+00:00", "train")) == (
        "wine|manual__2026-01-01T00:00:00+00:00|train"
    )
    assert LeaseHolder.parse("wine|run_1|train") == LeaseHolder("wine", "run_1", "train")
    assert LeaseHolder.parse("wine|run_1|train|3") == LeaseHolder("wine", "run_1", "train", 3)
    assert str(LeaseHolder("wine", "run_1", "train", 3)) == "wine|run_1|train|3"
    stored = {"base_key": "f" * 64, "holder": "wine|run_1|train"}
    claim = FingerprintClaim.from_json(stored)
    assert claim == FingerprintClaim("f" * 64, LeaseHolder("wine", "run_1", "train"))
    assert claim.to_json() == stored
    assert FingerprintClaim.from_json(None) is None
