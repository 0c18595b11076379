"""Waiting, in the triggerer, for another run to finish computing the same fingerprint.

The reuse sensor defers with this trigger instead of holding a worker slot or rescheduling
itself; the event fires once the lease is released or has expired (its holder died), and the
sensor then decides again: reuse the new result, or take the lease and run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class LeaseReleasedTrigger(BaseTrigger):
    """Fires when nobody holds a live lease on ``base_key`` any more.

    The step cache's location comes from the triggerer's own configuration, so no database
    URL (or its password) is stored with the trigger.
    """

    def __init__(self, base_key: str, holder: str, poll_seconds: float) -> None:
        # ``holder``: the LeaseHolder awaited, in its stored form (trigger arguments are JSON).
        super().__init__()
        self.base_key = base_key
        self.holder = holder
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"base_key": self.base_key, "holder": self.holder, "poll_seconds": self.poll_seconds},
        )

    def _live_holder(self) -> str | None:
        from airflow_ml_provider.caching.store import StepCacheStore

        return StepCacheStore().live_holder(self.base_key)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            holder = await asyncio.to_thread(self._live_holder)
            if holder is None:
                self.log.info("the lease on %s was released or expired", self.base_key[:12])
                yield TriggerEvent({"base_key": self.base_key, "previous_holder": self.holder})
                return
            await asyncio.sleep(self.poll_seconds)
