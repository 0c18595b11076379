"""Deciding reuse from a pre-image: find a verified hit, or say why not. No Airflow here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from airflow_ml_provider import settings
from airflow_ml_provider.caching.explain import differences, explain_rerun
from airflow_ml_provider.caching.fingerprint import fingerprint
from airflow_ml_provider.caching.parts import module_digests, module_path
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import CacheEntry, StepCacheStore
from airflow_ml_provider.caching.verify import output_problem


@dataclass(frozen=True)
class Hit:
    entry: CacheEntry

    @property
    def message(self) -> str:
        by = self.entry.origin.produced_by
        return f"reused from run {by.run_id} (task {by.task_id}, attempt {by.attempt})"


def find_hit(
    store: StepCacheStore,
    base: str,
    cache: StatCache,
    *,
    warn: Callable[[str], None],
    base_directory: Path,
    now: float | None = None,
    storage_options: Callable[[str], dict[str, Any]],
    evict: bool = True,
) -> Hit | None:
    """The newest entry for ``base`` whose modules are unchanged and outputs intact.

    ``storage_options(output)``: the options of the datastore that output is on, asked only
    for an output on a remote store.

    Entries whose outputs are gone or altered, or that outlived the TTL, are evicted (with
    ``evict=False``, as ``airflow-ml status`` looks, they are only reported).
    """
    now = time.time() if now is None else now
    ttl = settings.cache_ttl_seconds()
    full = settings.verify_outputs() == "digest"
    dropped = "evicted" if evict else "stale, a run evicts it"
    for entry in store.candidates(base):
        if ttl is not None and entry.created_at + ttl < now:
            warn(f"cache entry {entry.fingerprint[:12]} is older than the TTL ({ttl:.0f} s): {dropped}")
            if evict:
                store.clear(fingerprint=entry.fingerprint)
            continue
        if fingerprint(base, module_digests(list(entry.modules), cache, base_directory)) != entry.fingerprint:
            continue
        problems = [
            problem
            for name, reference in entry.outputs.items()
            if (
                problem := output_problem(
                    name, reference, full=full, cache=cache, storage_options=partial(storage_options, name)
                )
            )
        ]
        if problems:
            warn("; ".join(problems) + f": cache entry {entry.fingerprint[:12]} {dropped}")
            if evict:
                store.clear(fingerprint=entry.fingerprint)
            continue
        return Hit(entry)
    return None


def explain_miss(
    store: StepCacheStore,
    dag_id: str,
    step: str,
    pre_image: dict[str, Any],
    cache: StatCache,
    base_directory: Path,
) -> str:
    """Why the step runs, compared with the newest earlier entry of the same step."""
    earlier = store.latest(dag_id, step)
    if earlier is None:
        return "run: no earlier result of this step in the cache"
    current = module_digests(list(earlier.modules), cache, base_directory)

    def by_path(modules: dict[str, str]) -> dict[str, str]:
        return {str(module_path(key, base_directory)): digest for key, digest in modules.items()}

    reasons = differences(earlier.pre_image, pre_image, by_path(earlier.modules), by_path(current))
    if not reasons:
        return "re-run: the earlier result of this step can no longer be used"
    return explain_rerun(reasons)
