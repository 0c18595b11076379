"""A step's reuse decision, made the same way by ``<step>.reuse`` and by ``airflow-ml status``.

The sensor acts on the outcome (records it, holds the lease, pushes the references, skips
the run task, waits for another run). ``airflow-ml status`` only reports it: it peeks at
leases instead of taking them, evicts nothing and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_ml_provider.caching.fingerprint import UnfingerprintableError, base_key
from airflow_ml_provider.caching.lookup import Hit, explain_miss, find_hit
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.caching.verify import reference_digest
from airflow_ml_provider.handoff import LeaseHolder
from airflow_ml_provider.hooks.compute import ComputeTargetError
from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook
from airflow_ml_provider.hooks.sql import SqlSourceError
from airflow_ml_provider.pipeline.data import DataReference
from airflow_ml_provider.runtime.stores import StoreError
from airflow_ml_provider.xcom_handoff import StepInputError

REUSE, RUN, WAIT, UNCACHED = "reuse", "run", "wait", "uncached"


@dataclass(frozen=True)
class Outcome:
    """``decision``: reuse, run, wait (another run holds the lease) or uncached (no fingerprint)."""

    decision: str
    message: str
    base: str | None = None
    pre_image: dict[str, Any] | None = None
    hit: Hit | None = None
    holder: LeaseHolder | None = None


# What makes a part of a fingerprint unknowable: the step runs uncached.
UNKNOWABLE = (ComputeTargetError, DatastoreError, StepInputError, StoreError, SqlSourceError)

# A step kind's fingerprint: (step, run parameters, input digest, stat cache) -> pre-image
# (see airflow_ml_provider.step_kinds, which hands the sensor its kind's).
PreImage = Callable[[Any, Mapping[str, Any], Callable[[Any], str], StatCache], dict[str, Any]]


def input_digests(step: Any, input_digest: Callable[[Any], str]) -> dict[str, str]:
    """Each input's content digest, by data name (the sensor reads a ``PipelineData``'s from
    its producer's XCom in this run); UnfingerprintableError when one cannot be known."""
    try:
        return {data.name: input_digest(data) for data in step.inputs}
    except UNKNOWABLE as error:
        raise UnfingerprintableError(str(error)) from None


def data_reference_digest(data: DataReference, stat_cache: StatCache) -> str:
    """The content digest of data that exists before the pipeline (local: through the stat cache)."""
    datastore = DatastoreHook(data.datastore).resolve()
    uri = datastore.uri(data.path_on_datastore)
    try:
        return reference_digest(uri, datastore.storage_options, datastore=datastore.name, cache=stat_cache)
    except FileNotFoundError:
        raise UnfingerprintableError(f'input "{data.name}": {uri} does not exist') from None


def output_storage_options(step: Any) -> Callable[[str], dict[str, Any]]:
    """The options of the datastore each of the step's outputs is on, resolved when first asked.

    A hit's outputs on the local disk are verified without them; one on a remote store needs
    its datastore's connection (credentials, endpoint). A datastore that cannot be resolved
    leaves the step unfingerprintable, as an input's would.
    """
    datastores = {data.name: data.datastore or "default" for data in step.outputs}
    resolved: dict[str, dict[str, Any]] = {}

    def storage_options(output: str) -> dict[str, Any]:
        name = datastores.get(output, "default")
        if name not in resolved:
            try:
                resolved[name] = DatastoreHook(name).resolve().storage_options
            except DatastoreError as error:
                raise UnfingerprintableError(f'output "{output}": {error}') from None
        return resolved[name]

    return storage_options


def decide(
    step: Any,
    pre_image: dict[str, Any],
    *,
    dag_id: str,
    store: StepCacheStore,
    stat_cache: StatCache,
    regenerate: bool,
    lease: Callable[[str], str | None],
    evict: bool,
    warn: Callable[[str], None],
) -> Outcome:
    """Reuse a verified hit, wait for the run holding the lease, or run (and say why).

    UnfingerprintableError when a remote output's datastore cannot be resolved to verify a hit.

    ``lease(base)`` is the holder of the lease on ``base`` when it is another run's (the
    sensor takes the lease; status only looks). ``evict``: drop stale entries found on the way.
    """
    base = base_key(pre_image)
    reuse_wanted = bool(step.allow_reuse) and not regenerate
    problems: list[str] = []
    if reuse_wanted:

        def stale(problem: str) -> None:
            problems.append(problem)
            warn(problem)

        hit = find_hit(
            store,
            base,
            stat_cache,
            warn=stale,
            base_directory=step.base_directory,
            storage_options=output_storage_options(step),
            evict=evict,
        )
        if hit is not None:
            return Outcome(REUSE, hit.message, base, pre_image, hit=hit)
    other = lease(base)
    if other is not None:
        holder = LeaseHolder.parse(other)
        message = f"run {holder.run_id} is computing the same fingerprint ({base[:12]})"
        return Outcome(WAIT, message, base, pre_image, holder=holder)
    if not step.allow_reuse:
        message = "run: allow_reuse=False"
    elif not reuse_wanted:
        message = "run: regenerate_outputs is set for this run"
    elif problems:
        message = "re-run: " + "; ".join(problems)
    else:
        message = explain_miss(store, dag_id, step.name, pre_image, stat_cache, step.base_directory)
    return Outcome(RUN, message, base, pre_image)
