"""The embedded tracking store's MLflow UI, served under the Airflow API server.

With no tracking connection, runs go to a SQLite store under AIRFLOW_HOME, which has no web
server of its own; the plugin serves MLflow's own UI (its Flask app) for it, so that the
"MLflow run" links on step tasks work with no configuration. It is behind Airflow's login:
a store holds the runs of every pipeline, so only users who may read every DAG see it, and
only users who may edit every DAG may change it (MLflow's searches are POST requests: reads).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_ml_provider.plugins.access import may, may_read_every_dag

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
_READ_POST_SUFFIXES = ("/search", "/search-datasets", "/get-history-bulk-interval", "/ui-telemetry")


def _is_read(method: str, path: str) -> bool:
    return method in _READ_METHODS or (method == "POST" and path.rstrip("/").endswith(_READ_POST_SUFFIXES))


def mlflow_wsgi_app(store_uri: str, artifact_root: str | None) -> Any:
    """MLflow's Flask app on ``store_uri`` (configured through the variables ``mlflow server`` sets)."""
    from mlflow.server import ARTIFACT_ROOT_ENV_VAR, BACKEND_STORE_URI_ENV_VAR, SERVE_ARTIFACTS_ENV_VAR

    os.environ.setdefault(BACKEND_STORE_URI_ENV_VAR, store_uri)
    if artifact_root:
        os.environ.setdefault(ARTIFACT_ROOT_ENV_VAR, artifact_root)
    os.environ.setdefault(SERVE_ARTIFACTS_ENV_VAR, "false")
    # The API server in front checks hosts; MLflow's own check would refuse its public name.
    os.environ.setdefault("MLFLOW_SERVER_ALLOWED_HOSTS", "*")
    from mlflow.server import app

    return app


class AirflowGuard:
    """Lets a request through to ``app`` only for users Airflow's auth manager allows (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        refusal = await self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, request: Request) -> Response | None:
        from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, oauth2_scheme
        from airflow.utils.session import create_session
        from fastapi import HTTPException
        from fastapi.concurrency import run_in_threadpool

        try:
            # As Airflow's own routes: a bearer token, else the UI's session cookie.
            user = await get_user(request, await oauth2_scheme(request), await bearer_scheme(request))
        except HTTPException as error:
            return PlainTextResponse(str(error.detail), status_code=error.status_code)

        def allowed() -> bool:
            with create_session() as session:
                if not may_read_every_dag(user, session):
                    return False
            return _is_read(request.method, request.url.path) or may(user, "PUT", None)

        if not await run_in_threadpool(allowed):
            return PlainTextResponse(
                "Forbidden: the MLflow store holds the runs of every pipeline; it is shown to users "
                "who may read every DAG. Each pipeline's runs and metrics are on its Pipeline tab.",
                status_code=403,
            )
        return None


def mlflow_asgi_app(store_uri: str, artifact_root: str | None) -> ASGIApp:
    from a2wsgi import WSGIMiddleware

    return AirflowGuard(WSGIMiddleware(mlflow_wsgi_app(store_uri, artifact_root)))  # type: ignore[arg-type]
