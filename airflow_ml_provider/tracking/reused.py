"""Which steps a DAG run reused, read back from the step cache when the DAG run ends.

A reuse hit does not start MLflow in its task: importing it and opening its store cost
seconds in every task process, many times the hit's own work. The DAG run's closing callback,
which starts MLflow once per DAG run anyway, gives each reused step its MLflow run from what
the step cache recorded: the step's last decision in this run, and the cache entry it reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from airflow_ml_provider.caching.lookup import Hit
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.handoff import ResultOrigin

# Each attempt of a reuse sensor that decides records one of these (a wait is followed by one).
_DECISIVE = ("reused", "run")


@dataclass(frozen=True)
class ReusedStep:
    """A step reused in a DAG run: the DAG's copy of it, and what the step cache recorded
    (``origin``: the result it reused, None when that cache entry is gone since)."""

    step: Any
    fingerprint: str
    attempt: int
    at: float
    origin: ResultOrigin | None


def reused_in_run(
    store: StepCacheStore, steps: Iterable[Any], dag_id: str, run_id: str, warn: Callable[[str], None]
) -> list[ReusedStep]:
    """The tracked steps whose last decision in this DAG run was to reuse a cached result."""
    found = []
    for step in steps:
        if step.tracking == "off":
            continue
        decided = [d for d in store.decisions(dag_id, step.name, run_id) if d.decision in _DECISIVE]
        last = decided[-1] if decided else None
        if last is None or last.decision != "reused" or not last.base_key:
            continue
        fingerprint = last.base_key
        # The entry the sensor reused is the one its decision names (run, task and attempt).
        entry = next((e for e in store.candidates(fingerprint) if Hit(e).message == last.message), None)
        if entry is None:
            warn(
                f'step "{step.name}": the cache entry it reused ({fingerprint[:12]}) is gone; its MLflow '
                "run is recorded without the original run's metrics"
            )
        found.append(ReusedStep(step, fingerprint, len(decided), last.at, entry.origin if entry else None))
    return found
