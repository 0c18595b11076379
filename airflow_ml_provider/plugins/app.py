"""The plugin's FastAPI app, mounted by Airflow's API server under ``/ml-pipelines``."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from airflow_ml_provider.hooks.tracking_config import MLFLOW_UI_PATH, PLUGIN_PATH

BUNDLE_FOLDER = Path(__file__).parent / "www" / "dist"


def create_app() -> FastAPI:
    """JSON routes under ``/api`` (each checks the user's rights on the DAG it is about), the UI
    bundle under ``/static``, and the embedded tracking store's MLflow UI under ``/mlflow``."""
    from airflow.api_fastapi.common.dagbag import create_dag_bag

    from airflow_ml_provider.plugins.routes import cache, designer, outputs, pipelines

    app = FastAPI(
        title="ML pipelines",
        description="Data for the pipeline views of the airflow-ml-provider UI plugin.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.dag_bag = create_dag_bag()
    for router in (pipelines.router, outputs.router, cache.router, designer.router):
        app.include_router(router, prefix="/api")
    # The bundle is a UMD script named .cjs, as Airflow's plugin template builds it.
    mimetypes.add_type("application/javascript", ".cjs")
    app.mount("/static", StaticFiles(directory=BUNDLE_FOLDER, check_dir=False), name="bundle")
    embedded = _embedded_store()
    if embedded is not None:
        from airflow_ml_provider.plugins.mlflow_ui import mlflow_asgi_app

        app.mount(MLFLOW_UI_PATH.removeprefix(PLUGIN_PATH).rstrip("/"), mlflow_asgi_app(*embedded))
    return app


def _embedded_store() -> tuple[str, str | None] | None:
    """The embedded store's URI and artifact root, when runs are tracked there (no connection)."""
    from airflow_ml_provider.hooks.tracking_config import resolve

    try:
        config = resolve()
    except Exception:
        return None
    if not config.uri.startswith("sqlite:") or not config.ui_url:
        return None
    return config.uri, config.artifact_location


class LazyApp:
    """The app, created on its first request: every Airflow process loads plugins, and only the
    API server serves this one (creating it imports MLflow's server)."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = create_app()
        await self._app(scope, receive, send)
