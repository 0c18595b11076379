"""What each step of a pipeline would do if it ran now, and why, without running anything.

The decision is the reuse sensor's own (``sensors.decision``), made read-only: leases are
looked at, not taken; stale entries are reported, not evicted; no decision is recorded and
no DAG run is made. (The stat cache still remembers the digests of files it had to read: an
optimisation, as in every lookup.) A step whose input comes from a step that would run is
decided only once that output exists: it is reused if the output comes out the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_ml_provider import settings
from airflow_ml_provider.caching.content import SnapshotError
from airflow_ml_provider.caching.fingerprint import UnfingerprintableError
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.handoff import OutputReference
from airflow_ml_provider.hooks.sql import csv_digest
from airflow_ml_provider.pipeline.data import DataReference
from airflow_ml_provider.pipeline.datapath import bind_run_parameters
from airflow_ml_provider.pipeline.graph import PipelineGraph
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.sensors.decision import (
    UNCACHED,
    WAIT,
    Outcome,
    data_reference_digest,
    decide,
)
from airflow_ml_provider.step_kinds.kinds import step_pre_image

AFTER = "after"


@dataclass(frozen=True)
class StepStatus:
    """``decision``: reuse, run, wait (another run computes it), uncached, or after (an upstream step)."""

    name: str
    decision: str
    message: str


class _DecidedLater(Exception):
    def __init__(self, data: str, producer: str | None, upstream: Outcome | None) -> None:
        super().__init__(data)
        self.data, self.producer, self.upstream = data, producer, upstream


def pipeline_status(dag: Any, *, run_conf: dict[str, Any] | None = None) -> list[StepStatus]:
    """Each step's decision, in the pipeline's definition order.

    ``run_conf`` as for a run: parameter values and ``regenerate_outputs``.
    """
    from airflow_ml_provider.rendered import pipeline_of

    graph = pipeline_of(dag)
    conf = run_conf or {}
    params = {name: conf[name] if name in conf else dag.params[name] for name in dag.params}
    store = StepCacheStore()
    stat_cache = StatCache(settings.stat_cache_path())
    outcomes: dict[str, Outcome | StepStatus] = {}
    try:
        for name in _run_order(graph):
            outcomes[name] = _decide(graph, name, dag.dag_id, params, conf, outcomes, store, stat_cache)
    finally:
        stat_cache.close()
    return [_status(name, outcomes[name]) for name in graph.steps]


def _decide(
    graph: PipelineGraph,
    name: str,
    dag_id: str,
    params: dict[str, Any],
    conf: dict[str, Any],
    outcomes: dict[str, Outcome | StepStatus],
    store: StepCacheStore,
    stat_cache: StatCache,
) -> Outcome | StepStatus:
    step = graph.steps[name]

    def input_digest(data: Any) -> str:
        data = bind_run_parameters(data, params)
        if isinstance(data, SqlDataReference):
            return csv_digest(data.datastore, data.sql_query)
        if isinstance(data, DataReference):
            return data_reference_digest(data, stat_cache)
        producer = graph.producer_of(data.name)
        upstream = outcomes.get(producer) if producer else None
        if not isinstance(upstream, Outcome) or upstream.hit is None:
            raise _DecidedLater(data.name, producer, upstream if isinstance(upstream, Outcome) else None)
        return OutputReference.from_json(upstream.hit.entry.outputs[data.name]).digest

    try:
        pre_image = step_pre_image(step, params, input_digest, stat_cache)
    except _DecidedLater as later:
        how = "once another run has made it" if later.upstream and later.upstream.decision == WAIT else ""
        return StepStatus(
            name,
            AFTER,
            f'input "{later.data}" comes from step "{later.producer}", which does not reuse its result: '
            f"decided {how or 'once it has run'} (reused if that output comes out the same)",
        )
    except UnfingerprintableError as error:
        return Outcome(UNCACHED, f"run, not cached: cannot fingerprint {error}")
    except SnapshotError as error:
        return Outcome(UNCACHED, f"fails before it runs: {error}")
    try:
        return decide(
            step,
            pre_image,
            dag_id=dag_id,
            store=store,
            stat_cache=stat_cache,
            regenerate=bool(conf.get("regenerate_outputs")),
            lease=store.live_holder,
            evict=False,
            warn=lambda problem: None,  # the message of the outcome says it
        )
    except UnfingerprintableError as error:
        return Outcome(UNCACHED, f"run, not cached: cannot fingerprint {error}")


def _status(name: str, outcome: Outcome | StepStatus) -> StepStatus:
    if isinstance(outcome, StepStatus):
        return outcome
    return StepStatus(name, outcome.decision, outcome.message)


def _run_order(graph: PipelineGraph) -> list[str]:
    """Steps after the steps they depend on (the order a run decides them in)."""
    waiting = {name: {before for before, after in graph.edges if after == name} for name in graph.steps}
    order: list[str] = []
    while waiting:
        ready = [name for name, before in waiting.items() if not before - set(order)]
        order += ready
        for name in ready:
            del waiting[name]
    return order


def find_pipeline(dag_id: str, dags_folder: str | Path | None = None) -> Any:
    """Parse the DAG of ``dag_id`` without Airflow's database: the files that name it, else the folder.

    None when no DAG file defines it.
    """
    from airflow import settings as airflow_settings
    from airflow.dag_processing.dagbag import DagBag

    folder = Path(dags_folder or airflow_settings.DAGS_FOLDER)
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder]
    for file in [file for file in files if _names(file, dag_id)]:
        bag = DagBag(dag_folder=str(file), safe_mode=False)
        if dag_id in bag.dags:
            return bag.dags[dag_id]
    if folder.is_dir():  # a DAG id built at parse time names no file
        return DagBag(dag_folder=str(folder)).dags.get(dag_id)
    return None


def _names(file: Path, dag_id: str) -> bool:
    try:
        return dag_id in file.read_text(errors="replace")
    except OSError:
        return False
