"""Credentials of a tracking connection never travel inside a URI that is logged or linked.

A tracking URI written as ``http://user:password@host`` is split: the URI keeps only the
host, and the user and password become MLflow's ``MLFLOW_TRACKING_USERNAME`` /
``MLFLOW_TRACKING_PASSWORD`` (which MLflow's client sends as basic auth). A database URI
(``postgresql://user:password@db/mlflow``) needs its password to connect, so it keeps it, and
every message shows it without. Every secret is registered with Airflow's secrets masker, so
a log line that still contains one (an MLflow error echoing it) shows ``***``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from urllib.parse import unquote, urlsplit, urlunsplit

from airflow_ml_provider.hooks.tracking_config import TrackingConfig

USERNAME, PASSWORD, TOKEN = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"


def _host_part(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def without_userinfo(uri: str) -> str:
    """``uri`` with no ``user:password@``."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=_host_part(parts.netloc)))


def shown(uri: str) -> str:
    """``uri`` as messages show it: a password replaced by ``***``."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{_host_part(parts.netloc)}"))


def _mask(secret: str) -> None:
    with contextlib.suppress(ImportError):
        from airflow.sdk.log import mask_secret

        mask_secret(secret)


def secured(config: TrackingConfig) -> TrackingConfig:
    """The config with userinfo moved out of HTTP URIs and every secret masked in logs."""
    uri, credentials = config.uri, dict(config.credentials)
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        if parts.username and USERNAME not in credentials:
            credentials[USERNAME] = unquote(parts.username)
        if parts.password and PASSWORD not in credentials:
            credentials[PASSWORD] = unquote(parts.password)
        uri = without_userinfo(uri)
    elif parts.password:
        _mask(parts.password)
        _mask(unquote(parts.password))
    for name in (PASSWORD, TOKEN):
        if credentials.get(name):
            _mask(credentials[name])
    ui_url = without_userinfo(config.ui_url) if config.ui_url else None
    return dataclasses.replace(config, uri=uri, ui_url=ui_url, credentials=credentials)
