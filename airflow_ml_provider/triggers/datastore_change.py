"""Watches a path on a datastore, in the triggerer, and fires when files are added or changed.

Used as the event trigger of an Asset's ``AssetWatcher`` (see ``DatastoreSchedule``): each
event becomes an asset event, and the DAG scheduled on that asset runs with the changed path
as a parameter. Changes are judged by content digest, so rewriting the same bytes fires nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_ml_provider.triggers.manifest import Manifest, changed_files, common_folder, manifest

EVENT_KIND = "datastore_change"
# At most this many changed paths are listed in one event (the count is always complete).
_LISTED_PATHS = 1000


def path_on_datastore(watched: str, relative: str) -> str:
    """A changed file's path on the datastore ("" relative: the watched path is that file)."""
    watched = watched.strip("/")
    if not relative:
        return watched
    return f"{watched}/{relative}" if watched else relative


def change_payload(
    datastore: str, watched: str, changed: list[str], current: Manifest, parameter: str | None
) -> dict[str, Any]:
    """The event: which files changed, and the one path (a file, or their common folder) to run on."""
    paths = [path_on_datastore(watched, relative) for relative in changed]
    return {
        "kind": EVENT_KIND,
        "datastore": datastore,
        "watched": watched.strip("/"),
        "path": common_folder(paths),
        "paths": paths[:_LISTED_PATHS],
        "changed": len(paths),
        "digests": {
            path: current[relative] for path, relative in zip(paths[:_LISTED_PATHS], changed, strict=False)
        },
        "parameter": parameter,
    }


class DatastoreChangeTrigger(BaseEventTrigger):
    """Polls the content digests under ``path_on_datastore`` every ``polling_seconds``.

    The first poll of a new watch is the baseline (what is there already fires nothing);
    afterwards each poll that finds added or changed files yields one event. What the watch
    saw is kept in the provider's database, so a restarted triggerer compares with it.
    Subfolders are watched too. A datastore that cannot be read is logged and polled again;
    it never ends the watch.
    """

    def __init__(
        self,
        datastore: str,
        path_on_datastore: str,
        polling_seconds: float,
        parameter: str | None = None,
    ) -> None:
        super().__init__()
        self.datastore = datastore
        self.path_on_datastore = path_on_datastore
        self.polling_seconds = float(polling_seconds)
        self.parameter = parameter

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "datastore": self.datastore,
                "path_on_datastore": self.path_on_datastore,
                "polling_seconds": self.polling_seconds,
                "parameter": self.parameter,
            },
        )

    def _poll(self) -> Manifest:
        from airflow_ml_provider import settings
        from airflow_ml_provider.caching.statcache import StatCache
        from airflow_ml_provider.hooks.datastore import DatastoreHook

        datastore = DatastoreHook(self.datastore).resolve()
        stat_cache = StatCache(settings.stat_cache_path())
        try:
            uri = datastore.uri(self.path_on_datastore)
            return manifest(uri, datastore.storage_options, stat_cache, datastore=datastore.name)
        finally:
            stat_cache.close()

    def _remembered(self) -> Manifest | None:
        from airflow_ml_provider.triggers.watch_state import WatchState, watch_key

        return WatchState().load(watch_key(self.serialize()[1]))

    def _remember(self, current: Manifest) -> None:
        from airflow_ml_provider.triggers.watch_state import WatchState, watch_key

        description = f"{self.datastore}:/{self.path_on_datastore}"
        WatchState().save(watch_key(self.serialize()[1]), description, current)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        where = f'datastore "{self.datastore}" path "{self.path_on_datastore}"'
        try:
            # What this watch saw before a restart: files that landed meanwhile still count.
            previous = await asyncio.to_thread(self._remembered)
        except Exception as error:
            self.log.warning(
                "watching %s: no earlier view (%s); the first look is the baseline", where, error
            )
            previous = None
        while True:
            try:
                # Blocking I/O (stat cache, object store) runs off the triggerer's event loop.
                current = await asyncio.to_thread(self._poll)
            except Exception as error:
                self.log.warning("watching %s: %s; polling again in %g s", where, error, self.polling_seconds)
            else:
                changed = changed_files(previous, current)
                if previous is None:
                    self.log.info("watching %s: %d files now", where, len(current))
                if changed:
                    payload = change_payload(
                        self.datastore, self.path_on_datastore, changed, current, self.parameter
                    )
                    self.log.info("%s: %d files added or changed (%s)", where, len(changed), payload["path"])
                    yield TriggerEvent(payload)
                if changed or previous is None:
                    try:
                        await asyncio.to_thread(self._remember, current)
                    except Exception as error:
                        self.log.warning("watching %s: cannot remember what it saw (%s)", where, error)
                previous = current
            await asyncio.sleep(self.polling_seconds)
