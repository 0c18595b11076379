"""What a running step attempt leaves behind if its process dies, and sweeping it afterwards.

While a run task works it holds a record under ``$AIRFLOW_HOME/ml/attempts/`` naming its
temporary work folder, the folders its outputs are staged in and its MLflow run, and keeps an
exclusive lock on that record. A process that dies (killed, out of memory, machine reset)
releases the lock with it; the next run task on this machine finds the unlocked record and
removes what it names: the work folder, the ``.staging-*`` folders (never a published
output), the MLflow run still RUNNING (ended as KILLED) and the lease on the fingerprint it
was computing (so a run waiting for it goes on at once).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from airflow_ml_provider.private import private_folder
from airflow_ml_provider.settings import provider_home

Log = Callable[[str], None]
STAGING_PREFIX = ".staging-"


def attempts_folder() -> Path:
    return provider_home() / "attempts"


class AttemptRecord:
    """A locked record of one attempt's leftovers-to-be; removed when the attempt ends."""

    def __init__(self, what: str, work_directory: str, output_folders: list[str]) -> None:
        self.path = private_folder(attempts_folder()) / f"{uuid.uuid4().hex}.json"
        self.content: dict[str, Any] = {
            "what": what,
            "work_directory": work_directory,
            "output_folders": output_folders,
        }
        self._handle: TextIO | None = None

    def note(self, **values: Any) -> None:
        """Add what became known later (the MLflow run) to the record."""
        self.content.update(values)
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            json.dump(self.content, self._handle)
            self._handle.flush()

    def __enter__(self) -> AttemptRecord:
        # Locked before it gets the name a sweeper looks for: never seen unlocked while alive.
        writing = self.path.with_suffix(".new")
        self._handle = writing.open("w", encoding="utf-8")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        self.note()
        writing.rename(self.path)
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.path.unlink(missing_ok=True)
        if self._handle is not None:
            self._handle.close()


def _remove_staging(folder: Path) -> list[str]:
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.name.startswith(STAGING_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
    return removed


def sweep(
    end_run: Callable[[str], bool], log: Log, release_lease: Callable[[str, str], None] | None = None
) -> int:
    """Remove what attempts whose process died left behind; returns how many were swept.

    ``end_run(run_id)`` ends an MLflow run as KILLED if it is still running (True if it did);
    ``release_lease(base_key, holder)`` frees the fingerprint the attempt was computing, so a
    waiting run takes over now instead of after the lease expires.
    """
    folder = attempts_folder()
    if not folder.is_dir():
        return 0
    swept = 0
    for path in sorted(folder.glob("*.json")):
        try:
            handle = path.open("r+", encoding="utf-8")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its attempt is alive
            try:
                record = json.loads(handle.read() or "{}")
            except ValueError:
                record = {}
            left = []
            work = record.get("work_directory")
            if work and os.path.isdir(work):
                shutil.rmtree(work, ignore_errors=True)
                left.append(work)
            for output_folder in record.get("output_folders", []):
                left += _remove_staging(Path(output_folder))
            run_id = record.get("mlflow_run_id")
            if run_id:
                try:
                    if end_run(run_id):
                        left.append(f"MLflow run {run_id} (ended as KILLED)")
                except Exception as error:  # tracking down: try again next time
                    log(f"could not end MLflow run {run_id} of a dead attempt yet: {error}")
                    continue
            lease = record.get("lease")
            if lease and release_lease is not None:
                with contextlib.suppress(Exception):
                    release_lease(*lease)
                    left.append(f"its lease on {lease[0][:12]}")
            path.unlink(missing_ok=True)
            swept += 1
            log(f"swept what a dead attempt ({record.get('what', '?')}) left: {', '.join(left) or 'nothing'}")
    return swept


def sweep_dead_attempts(log: Log) -> int:
    """:func:`sweep` with this provider's MLflow runs and step cache leases."""
    from airflow_ml_provider.caching.store import StepCacheStore
    from airflow_ml_provider.tracking.step import end_if_running

    def release(base: str, holder: str) -> None:
        StepCacheStore().release_lease(base, holder)

    return sweep(end_if_running, log, release)
