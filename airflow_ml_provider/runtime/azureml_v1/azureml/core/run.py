"""``Run.get_context()`` for step scripts, logging to the step's MLflow run.

The runtime hands the script ``MLFLOW_TRACKING_URI`` and ``MLFLOW_RUN_ID``; this logs
there through MLflow's client (imported on first use). Without them (a script run by
hand) the run is offline and says what it would have logged, as Azure ML v1's does.
``input_datasets`` are the step's inputs: a table (``to_pandas_dataframe()``) or a path.
"""

from __future__ import annotations

import json
import numbers
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_INPUTS_VARIABLE = "AML_INPUT_DATASETS"
_DATA_VARIABLE = "AZUREML_DATAREFERENCE_"


class Workspace:
    """The deployment the step runs in."""

    name = "airflow"

    def get_default_datastore(self) -> Any:
        raise NotImplementedError(
            "a step script reaches its data through its arguments or run.input_datasets, not a datastore"
        )


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name


class Dataset:
    """Datasets reach a script as ``run.input_datasets``; there is no registry to look up."""

    @staticmethod
    def get_by_name(workspace: Any, name: str, version: Any = "latest") -> Any:
        raise NotImplementedError(
            f'there is no dataset registry: give "{name}" to the step as an input '
            "(Dataset...as_named_input) and read run.input_datasets instead"
        )


class DatasetPath(str):
    """A file input: its local path (a ``str``), with FileDataset's ``download``/``mount``/``to_path``."""

    def to_path(self) -> list[str]:
        if os.path.isfile(self):
            return ["/" + os.path.basename(self)]
        return sorted(
            "/" + os.path.relpath(os.path.join(folder, name), self)
            for folder, _, names in os.walk(self)
            for name in names
        )

    def download(self, target_path: str | None = None, overwrite: bool = False) -> list[str]:
        target = target_path or tempfile.mkdtemp(prefix="dataset-")
        copied = []
        for relative in self.to_path():
            source = self if os.path.isfile(self) else os.path.join(self, relative.lstrip("/"))
            destination = os.path.join(target, relative.lstrip("/"))
            if os.path.exists(destination) and not overwrite:
                continue
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(source, destination)
            copied.append(destination)
        return copied

    @contextmanager
    def mount(self, mount_point: str | None = None) -> Iterator[Any]:
        class _Mounted:
            pass

        mounted = _Mounted()
        mounted.mount_point = str(self)  # type: ignore[attr-defined]
        yield mounted


class TabularDataset:
    """A table input: delimited or Parquet files, read with pandas."""

    def __init__(self, path: str, read_as: dict[str, Any]) -> None:
        self.path = path
        self.read_as = read_as

    def _files(self) -> list[str]:
        if os.path.isfile(self.path):
            return [self.path]
        return sorted(
            os.path.join(folder, name)
            for folder, _, names in os.walk(self.path)
            for name in names
            if not name.startswith(".")
        )

    def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null") -> Any:
        import pandas as pd

        frames = []
        for file in self._files():
            if self.read_as.get("kind") == "parquet":
                frames.append(pd.read_parquet(file))
            else:
                header = 0 if self.read_as.get("header", True) else None
                frames.append(pd.read_csv(file, sep=self.read_as.get("separator", ","), header=header))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def take(self, count: int) -> TabularDataset:
        table = TabularDataset(self.path, self.read_as)
        table.to_pandas_dataframe = lambda *a, **k: self.to_pandas_dataframe().head(count)  # type: ignore[method-assign]
        return table


def _input_datasets() -> dict[str, Any]:
    found: dict[str, Any] = {}
    described = json.loads(os.environ.get(_INPUTS_VARIABLE) or "{}")
    for key, entry in described.items():
        path = os.environ.get(_DATA_VARIABLE + str(entry.get("data")))
        if path is None:
            continue
        found[key] = TabularDataset(path, entry["format"]) if entry.get("format") else DatasetPath(path)
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


class Run:
    """The step's run. Use ``Run.get_context()``."""

    _context: Run | None = None

    def __init__(self, run_id: str | None) -> None:
        self.id = run_id
        self._steps: dict[str, int] = {}
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._mlflow: Any = None
        self.input_datasets: dict[str, Any] = _input_datasets()

    @classmethod
    def get_context(cls, allow_offline: bool = True, **_: Any) -> Run:
        if cls._context is None:
            run_id = os.environ.get("MLFLOW_RUN_ID")
            if not run_id and not allow_offline:
                raise RuntimeError("no MLflow run: MLFLOW_RUN_ID is not set (the step is not tracked)")
            cls._context = cls(run_id or None)
        return cls._context

    # What the run is ------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._mlflow is None:
            from mlflow.tracking import MlflowClient

            self._mlflow = MlflowClient()
        return self._mlflow

    @property
    def experiment(self) -> Experiment:
        name = "offline"
        if self.id:
            experiment_id = self._client().get_run(self.id).info.experiment_id
            name = self._client().get_experiment(experiment_id).name
        return Experiment(Workspace(), name)

    @property
    def parent(self) -> Run | None:
        if not self.id:
            return None
        parent_id = self._client().get_run(self.id).data.tags.get("mlflow.parentRunId")
        if not parent_id:
            return None
        parent = Run(parent_id)
        parent._mlflow = self._mlflow
        return parent

    def get_tags(self) -> dict[str, str]:
        return dict(self._client().get_run(self.id).data.tags) if self.id else {}

    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        if not self.id:
            return {}
        metrics = dict(self._client().get_run(self.id).data.metrics)
        return {name: metrics[name]} if name is not None and name in metrics else metrics

    # Logging ---------------------------------------------------------------------------------

    def _offline(self, what: str) -> bool:
        if self.id:
            return False
        print(f"Attempted to log {what} (offline run, not logged)", file=sys.stderr)
        return True

    def _metric(self, name: str, value: Any) -> None:
        step = self._steps.get(name, 0)
        self._steps[name] = step + 1
        self._client().log_metric(self.id, name, float(value), step=step)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        if self._offline(f"{name}: {value}"):
            return
        if _is_number(value):
            if step is not None:
                self._client().log_metric(self.id, name, float(value), step=int(step))
            else:
                self._metric(name, value)
        else:
            self._client().set_tag(self.id, name, str(value))

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        if self._offline(f"list {name}: {value}"):
            return
        if all(_is_number(item) for item in value):
            for item in value:
                self._metric(name, item)
        else:
            self._client().log_dict(self.id, {name: list(value)}, f"lists/{name}.json")

    def log_row(self, name: str, description: str | None = None, **columns: Any) -> None:
        if self._offline(f"row {name}: {columns}"):
            return
        rows = self._rows.setdefault(name, [])
        rows.append(columns)
        for column, value in columns.items():
            if _is_number(value):
                self._metric(f"{name}.{column}", value)
        self._client().log_dict(self.id, {"rows": rows}, f"tables/{name}.json")

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        if self._offline(f"table {name}"):
            return
        for column, values in value.items():
            if all(_is_number(item) for item in values):
                for item in values:
                    self._metric(f"{name}.{column}", item)
        self._client().log_dict(self.id, value, f"tables/{name}.json")

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        if self._offline(f"image {name}"):
            return
        if path is not None:
            self.upload_file(f"images/{name}{os.path.splitext(path)[1] or '.png'}", path)
            return
        figure = plot.gcf() if hasattr(plot, "gcf") else plot
        self._client().log_figure(self.id, figure, f"images/{name}.png")

    def _log_json(self, kind: str, name: str, value: Any) -> None:
        if self._offline(f"{kind} {name}"):
            return
        if isinstance(value, str):
            value = json.loads(value)
        self._client().log_dict(self.id, value, f"{kind}/{name}.json")

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._log_json("confusion_matrix", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._log_json("accuracy_table", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._log_json("residuals", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._log_json("predictions", name, value)

    def tag(self, key: str, value: Any = None) -> None:
        if not self._offline(f"tag {key}"):
            self._client().set_tag(self.id, key, "" if value is None else str(value))

    def set_tags(self, tags: dict[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    # Files -----------------------------------------------------------------------------------

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        """The file (or stream) under ``name`` among the run's artifacts."""
        if self._offline(f"file {name}"):
            return
        folder, file_name = os.path.split(name.strip("/"))
        with tempfile.TemporaryDirectory(prefix="upload-") as scratch:
            staged = os.path.join(scratch, file_name)
            if isinstance(path_or_stream, str | os.PathLike):
                shutil.copyfile(path_or_stream, staged)
            else:
                with open(staged, "wb") as handle:
                    data = path_or_stream.read()
                    handle.write(data.encode() if isinstance(data, str) else data)
            self._client().log_artifact(self.id, staged, folder or None)

    def upload_folder(self, name: str, path: str) -> None:
        if not self._offline(f"folder {name}"):
            self._client().log_artifacts(self.id, path, name.strip("/") or None)

    def get_file_names(self) -> list[str]:
        if not self.id:
            return []
        found: list[str] = []
        pending: list[str | None] = [None]
        while pending:
            for item in self._client().list_artifacts(self.id, pending.pop()):
                if item.is_dir:
                    pending.append(item.path)
                else:
                    found.append(item.path)
        return sorted(found)

    def download_file(self, name: str, output_file_path: str | None = None) -> None:
        local = self._client().download_artifacts(self.id, name, tempfile.mkdtemp(prefix="download-"))
        shutil.copyfile(local, output_file_path or os.path.basename(name))

    def register_model(
        self, model_name: str, model_path: str | None = None, tags: Any = None, **_: Any
    ) -> Any:
        """Register an artifact of this run (``model_path``, as uploaded) as a model version."""
        import mlflow

        return mlflow.register_model(
            f"runs:/{self.id}/{(model_path or 'outputs').strip('/')}", model_name, tags=tags
        )

    # Status ----------------------------------------------------------------------------------

    def complete(self, _set_status: bool = True) -> None:
        """The step's outcome decides the run's status when the script exits."""

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """Marks the run; the step fails when the script exits with a non-zero code."""
        self.tag("azureml.fail", error_details or "failed")

    def cancel(self) -> None:
        self.tag("azureml.cancel", "requested")

    def __repr__(self) -> str:
        return f"Run(id={self.id!r})"
