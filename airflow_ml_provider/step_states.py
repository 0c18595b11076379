"""One word for a step from the states of its two tasks (``<step>.reuse`` and ``<step>.run``).

The local run's summary, the REST client and the UI all say it with this function, so a step
reads the same everywhere: ran, reused, failed, upstream_failed, waiting (for another run that
computes the same fingerprint), queued, running, skipped, or not started.
"""

from __future__ import annotations

RUNNING_STATES = frozenset({"running", "queued", "scheduled", "deferred", "restarting", "up_for_retry"})


def step_status(reuse: str | None, run: str | None) -> str:
    """The step's status from its reuse sensor's and its run task's Airflow states."""
    if run == "success":
        return "ran"
    if run == "skipped" and reuse == "success":
        return "reused"
    if "failed" in (reuse, run):
        return "failed"
    if "upstream_failed" in (reuse, run):
        return "upstream_failed"
    if reuse in ("up_for_reschedule", "deferred"):  # the sensor defers only to wait for a lease
        return "waiting"
    if reuse in RUNNING_STATES or run in RUNNING_STATES:
        return "queued" if {reuse, run} <= {"queued", "scheduled", None} else "running"
    if reuse == "success" and run is None:
        return "running"
    if "skipped" in (reuse, run):
        return "skipped"
    return "not started"
