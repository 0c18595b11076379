"""A tracking server that does not answer costs seconds, not minutes, and is not asked again.

Before a step's first MLflow call, an HTTP(S) tracking server is probed (``GET /health``) with
short connect and read timeouts ([ml_pipelines] tracking_probe_seconds, 5 s); MLflow's own
client would retry each call for about a minute and a half. Once a server failed the probe,
it is known to be down for the rest of the pipeline run (a circuit breaker, shared by every
worker through the step cache store) and for a while in this process: later steps skip it at
once.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from airflow_ml_provider import settings
from airflow_ml_provider.hooks.tracking_config import TrackingConfig, TrackingUnavailableError
from airflow_ml_provider.hooks.tracking_credentials import shown

# Process-wide: a server known to be down, until when (monotonic seconds), and why.
_DOWN: dict[str, tuple[float, str]] = {}
DOWN_SECONDS = 120.0


def _circuit_key(uri: str, dag_id: str, run_id: str) -> str:
    from airflow_ml_provider.caching.fingerprint import digest_of

    return digest_of(["tracking-down", uri, dag_id, run_id])


def _known_down(uri: str, dag_id: str, run_id: str) -> str | None:
    down = _DOWN.get(uri)
    if down is not None and down[0] > time.monotonic():
        return down[1]
    try:
        from airflow_ml_provider.caching.store import StepCacheStore

        holder = StepCacheStore().live_holder(_circuit_key(uri, dag_id, run_id))
    except Exception:  # the breaker is an optimisation: without the store, probe again
        return None
    return holder.split("|", 1)[1] if holder and "|" in holder else None


def _mark_down(uri: str, dag_id: str, run_id: str, why: str) -> None:
    _DOWN[uri] = (time.monotonic() + DOWN_SECONDS, why)
    try:
        from airflow_ml_provider.caching.store import StepCacheStore

        StepCacheStore().try_lease(_circuit_key(uri, dag_id, run_id), f"tracking-down|{why}", DOWN_SECONDS)
    except Exception:
        pass


def check_reachable(config: TrackingConfig, dag_id: str, run_id: str) -> None:
    """Raise TrackingUnavailableError at once if the tracking server is known down or does not answer."""
    uri = config.uri
    if urlsplit(uri).scheme not in ("http", "https"):
        return
    known = _known_down(uri, dag_id, run_id)
    if known:
        raise TrackingUnavailableError(
            f"the MLflow tracking server at {shown(uri)} is known to be down in this pipeline run "
            f"({known}); not asked again"
        )
    import requests

    seconds = settings.tracking_probe_seconds()
    try:
        response = requests.get(f"{uri.rstrip('/')}/health", timeout=(min(seconds, 3.0), seconds))
        if response.status_code >= 500:
            raise requests.HTTPError(f"HTTP {response.status_code}")
    except requests.RequestException as error:
        why = f"no answer within {seconds:.0f} s: {type(error).__name__}"
        _mark_down(uri, dag_id, run_id, why)
        raise TrackingUnavailableError(
            f"the MLflow tracking server at {shown(uri)} does not answer ({why}). Check the tracking "
            'connection, or set tracking="optional" to run the step untracked.'
        ) from None
