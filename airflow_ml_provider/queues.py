"""The Airflow queue of each compute target, as DAG parsing needs it, without a connection read per parse.

A step's run task must carry its target's queue when the DAG is serialised, so that the
scheduler routes it. The queue lives in the target's connection, and reading a connection
in top-level DAG code is a metadata-DB or secrets-backend call at every parse. So parsing
asks this module, which remembers each target's queue on this machine's disk for
``[ml_pipelines] compute_queue_seconds`` (default 300; 0: read the connection every time):
at most one connection read per target in that time, however many steps and parses.
Every run task refreshes the remembered queue from the connection it resolves anyway.
"""

from __future__ import annotations

import time
from pathlib import Path

from airflow_ml_provider import settings
from airflow_ml_provider.remembered import RememberedFile

LOCAL = "local"

# Within one process (one parse), a target is looked up once even when nothing is cached.
_seen: dict[str, tuple[str | None, float]] = {}


_FILE = RememberedFile("compute-queues.json")


def queues_file() -> Path:
    return _FILE.path


def target_queue(name: str, *, now: float | None = None) -> str | None:
    """The queue of compute target ``name`` (None: the default queue, or an unknown target)."""
    if name == LOCAL:
        return None
    now = time.time() if now is None else now
    ttl = settings.compute_queue_seconds()
    seen = _seen.get(name)
    if seen is not None and now - seen[1] < ttl:
        return seen[0]
    remembered = _FILE.read().get(name)
    if isinstance(remembered, dict) and now - float(remembered.get("at", 0)) < ttl:
        queue = remembered.get("queue")
        _seen[name] = (queue, float(remembered["at"]))
        return queue if isinstance(queue, str) else None
    queue, known = _from_connection(name)
    _seen[name] = (queue, now)
    if known and ttl > 0:
        remember(name, queue, now=now)
    return queue


def remember(name: str, queue: str | None, *, now: float | None = None) -> None:
    """Record the queue a target's connection gives now (run tasks call this after resolving it)."""
    if name == LOCAL:
        return
    now = time.time() if now is None else now
    _seen[name] = (queue, now)
    known = _FILE.read()
    entry = known.get(name)
    fresh = isinstance(entry, dict) and now - float(entry.get("at", 0)) < settings.compute_queue_seconds() / 2
    if fresh and isinstance(entry, dict) and entry.get("queue") == queue:
        return  # the file already says so
    known[name] = {"queue": queue, "at": now}
    _FILE.write(known)


def forget() -> None:
    """Drop what this process remembers (the file stays)."""
    _seen.clear()


def _from_connection(name: str) -> tuple[str | None, bool]:
    """(queue, whether the target is defined); an unknown target is not an error at parse time:
    ``<step>.run`` fails with the clear message at run time, and ``airflow-ml validate`` reports it."""
    from airflow.exceptions import AirflowNotFoundException

    from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook

    try:
        return ComputeTargetHook(name).resolve().queue, True
    except (ComputeTargetError, AirflowNotFoundException):
        return None, False
