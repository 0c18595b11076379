"""After a step ran: keep its lease alive while it runs, then record its result in the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from airflow_ml_provider import settings
from airflow_ml_provider.caching.fingerprint import fingerprint
from airflow_ml_provider.caching.parts import module_digests, module_key
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import CacheEntry, StepCacheStore
from airflow_ml_provider.handoff import FingerprintClaim, OutputReference, ResultOrigin, references_to_json


class LeaseKeeper:
    """Renews a lease in the background while the step runs; releases it at the end.

    If the worker dies, renewals stop and the lease expires after ``lease_seconds``,
    so a waiting run can take over.
    """

    def __init__(self, store: StepCacheStore, claim: FingerprintClaim, seconds: float | None = None) -> None:
        self.store, self.base, self.holder = store, claim.base_key, str(claim.holder)
        self.seconds = seconds or settings.lease_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True, name="lease-keeper")

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.store.renew_lease(self.base, self.holder, self.seconds)
            except Exception:  # a missed renewal only shortens the lease
                continue

    def __enter__(self) -> LeaseKeeper:
        self.store.try_lease(self.base, self.holder, self.seconds)
        self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.store.release_lease(self.base, self.holder)


def commit_result(
    store: StepCacheStore,
    *,
    base: str,
    dag_id: str,
    step: str,
    source_directory: Path,
    base_directory: Path,
    imported_modules: list[str] | None,
    outputs: dict[str, OutputReference],
    origin: ResultOrigin,
    warn: Callable[[str], None],
) -> str | None:
    """Store the step's result under its fingerprint; None (and a warning) if it cannot be."""
    if imported_modules is None:
        warn(f'step "{step}": the script exited without reporting its imports; result not cached')
        return None
    pre_image = store.pre_image(base)
    if pre_image is None:
        warn(f'step "{step}": fingerprint {base[:12]} has no stored pre-image any more; result not cached')
        return None
    outside = [
        module_key(m, base_directory)
        for m in imported_modules
        if not Path(m).is_relative_to(source_directory)
    ]
    stat_cache = StatCache(settings.stat_cache_path(), warn)
    try:
        modules = module_digests(outside, stat_cache, base_directory)
    finally:
        stat_cache.close()
    key = fingerprint(base, modules)
    published, made_by = references_to_json(outputs), origin.to_json()
    store.put(CacheEntry(key, base, dag_id, step, pre_image, modules, published, made_by, time.time()))
    return key
