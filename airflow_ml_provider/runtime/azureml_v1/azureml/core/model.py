"""``Model.register`` from a script: a model version in the MLflow model registry."""

from __future__ import annotations

import os
from typing import Any


class Model:
    """A registered model version (``name``, ``version``)."""

    def __init__(
        self, workspace: Any = None, name: str | None = None, version: int | None = None, **_: Any
    ) -> None:
        self.name = name
        self.version = version

    @staticmethod
    def register(
        workspace: Any,
        model_path: str,
        model_name: str,
        tags: dict[str, Any] | None = None,
        description: str | None = None,
        **_: Any,
    ) -> Model:
        """Log ``model_path`` (a file or folder) to the step's run and register it as ``model_name``."""
        from .run import Run

        run = Run.get_context()
        if not run.id:
            print(f"Model.register({model_name!r}): no MLflow run (offline), nothing registered")
            return Model(workspace, model_name, None)
        artifact_path = f"models/{model_name}"
        client = run._client()
        if os.path.isdir(model_path):
            client.log_artifacts(run.id, model_path, artifact_path)
        else:
            client.log_artifact(run.id, model_path, artifact_path)
        import mlflow

        version = mlflow.register_model(f"runs:/{run.id}/{artifact_path}", model_name, tags=tags)
        return Model(workspace, model_name, int(version.version))
