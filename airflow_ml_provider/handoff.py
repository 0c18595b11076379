"""What one task hands to another: the records that cross task boundaries, and their XCom keys.

- ``<step>.reuse`` claims a fingerprint for ``<step>.run`` (``FingerprintClaim``), holding its
  lease in the step cache under a ``LeaseHolder``;
- ``<step>.run`` (or ``<step>.reuse`` on a hit) publishes one ``OutputReference`` per output,
  each saying which attempt made it (``ProducedBy``); a cache entry remembers that attempt
  with its MLflow run (``ResultOrigin``).

Their JSON forms are the ones XCom, the step cache and API clients have always held, so
stored entries and earlier runs stay readable. Pure Python: API clients import it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# XCom keys.
OUTPUTS_KEY = "return_value"  # {output name: OutputReference}, pushed by .reuse (hit) or .run
FINGERPRINT_KEY = "fingerprint"  # FingerprintClaim, pushed by .reuse for .run
REUSE_DECISION = "reuse_decision"  # {"decision", "message", "fingerprint"}, read by API clients
RUN_ID_KEY = "mlflow_run_id"  # the step attempt's MLflow run (also a key of ResultOrigin)
MODEL_VERSION_KEY = "model_version"  # the model version a step registered (also in ResultOrigin)
TRANSFER_STATS_KEY = "transfer_stats"  # a DataTransferStep's figures: bytes, files, seconds, memory

STORE_DIGEST = "store_digest"


@dataclass(frozen=True)
class ProducedBy:
    """The DAG run, task and attempt that wrote an output."""

    dag_id: str
    run_id: str
    task_id: str
    attempt: int

    @classmethod
    def of(cls, ti: Any) -> ProducedBy:
        """The attempt of the task instance ``ti``."""
        return cls(ti.dag_id, ti.run_id, ti.task_id, ti.try_number)

    def to_json(self) -> dict[str, Any]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "task_id": self.task_id, "try": self.attempt}

    @classmethod
    def from_json(cls, value: Any) -> ProducedBy:
        value = value if isinstance(value, dict) else {}
        return cls(
            str(value.get("dag_id", "")),
            str(value.get("run_id", "")),
            str(value.get("task_id", "")),
            int(value.get("try") or 0),
        )


@dataclass(frozen=True)
class OutputReference:
    """Where a published output is and what it holds (never the bytes).

    ``store_digest``: the object store's own checksums of it, when the store has them (a
    cheap check that remote outputs are unchanged).
    """

    uri: str
    digest: str
    size: int
    files: int
    produced_by: ProducedBy
    store_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "uri": self.uri,
            "digest": self.digest,
            "size": self.size,
            "files": self.files,
            "produced_by": self.produced_by.to_json(),
        }
        if self.store_digest:
            value[STORE_DIGEST] = self.store_digest
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> OutputReference:
        return cls(
            str(value["uri"]),
            str(value.get("digest", "")),
            int(value.get("size") or 0),
            int(value.get("files") or 0),
            ProducedBy.from_json(value.get("produced_by")),
            value.get(STORE_DIGEST) or None,
        )


def references_to_json(references: dict[str, OutputReference]) -> dict[str, dict[str, Any]]:
    """A step's output references as XCom and the step cache hold them."""
    return {name: reference.to_json() for name, reference in references.items()}


@dataclass(frozen=True)
class ResultOrigin:
    """The attempt whose result a cache entry holds, with its MLflow run and registered model
    version, so that a run reusing the result reports them."""

    produced_by: ProducedBy
    mlflow_run_id: str | None
    model_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        value = {**self.produced_by.to_json(), RUN_ID_KEY: self.mlflow_run_id}
        if self.model_version:
            value[MODEL_VERSION_KEY] = self.model_version
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ResultOrigin:
        model_version = value.get(MODEL_VERSION_KEY)
        return cls(
            ProducedBy.from_json(value),
            value.get(RUN_ID_KEY),
            str(model_version) if model_version else None,
        )


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease in the step cache: a step of a DAG run (and, for a run's tracking
    lock, one attempt of it). Stored as ``dag_id|run_id|step[|attempt]``."""

    dag_id: str
    run_id: str
    step: str
    attempt: int | None = None

    def __str__(self) -> str:
        parts = [self.dag_id, self.run_id, self.step]
        return "|".join(parts if self.attempt is None else [*parts, str(self.attempt)])

    @classmethod
    def parse(cls, text: str) -> LeaseHolder:
        dag_id, run_id, rest = text.split("|", 2)
        step, _, attempt = rest.partition("|")
        return cls(dag_id, run_id, step, int(attempt) if attempt.isdigit() else None)


@dataclass(frozen=True)
class FingerprintClaim:
    """The fingerprint ``<step>.reuse`` found no result for, and the lease it took on it for
    ``<step>.run``, which commits the result under it."""

    base_key: str
    holder: LeaseHolder

    def to_json(self) -> dict[str, Any]:
        return {"base_key": self.base_key, "holder": str(self.holder)}

    @classmethod
    def from_json(cls, value: Any) -> FingerprintClaim | None:
        """The claim in XCom, or None when there is none (the step is not cacheable)."""
        if not isinstance(value, dict) or "base_key" not in value:
            return None
        return cls(str(value["base_key"]), LeaseHolder.parse(str(value["holder"])))
