"""The step cache through real Airflow runs: which steps re-run, and why, after each change."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.datastore import Datastore
from airflow_ml_provider.runs import run_pipeline
from airflow_ml_provider.runtime.staging import local_path

REPO = Path(__file__).resolve().parents[2]
STEPS = ["ingest", "featurize", "train", "evaluate", "score"]


@dataclass
class Run:
    dag_run: Any
    statuses: dict[str, str]
    outputs: dict[str, dict[str, Any]]

    @property
    def run_id(self) -> str:
        return str(self.dag_run.run_id)

    def published(self, output: str) -> Path:
        path = local_path(self.outputs[output]["uri"])
        assert path is not None
        return path


class WineCopy:
    """A private copy of the wine pipeline: own DAG id, step code, helper module and raw data."""

    def __init__(self, dags_folder: Path, name: str) -> None:
        self.name = name
        self.dag_id = f"wine_reuse_{name}"
        self.root = dags_folder / f"case_{name}"
        shutil.copytree(
            REPO / "dags" / "wine",
            self.root / "wine",
            ignore=shutil.ignore_patterns("data", "__pycache__", "make_data.py"),
        )
        self.dag_file = self.root / "wine_classifier.py"
        source = (REPO / "dags" / "wine_classifier.py").read_text()
        assert source.count('"wine_classifier"') == 1
        assert source.count('"samples/wine/') == 2
        source = source.replace('"wine_classifier"', f'"{self.dag_id}"')
        source = source.replace('"samples/wine/', f'"samples/case_{name}/')
        self.dag_file.write_text(source)
        Datastore().upload(REPO / "dags" / "wine" / "data", f"samples/case_{name}", show_progress=False)
        raw = local_path(Datastore().resolve().uri(f"samples/case_{name}/wine.csv"))
        assert raw is not None and raw.is_file()
        self.raw = raw
        self.runs: list[Run] = []

    def step_file(self, step: str) -> Path:
        return self.root / "wine" / "steps" / step / f"{step}.py"

    @property
    def helper_module(self) -> Path:
        return self.root / "wine" / "features.py"

    def edit_dag(self, old: str, new: str) -> None:
        source = self.dag_file.read_text()
        assert source.count(old) == 1, old
        self.dag_file.write_text(source.replace(old, new))

    def run(self, conf: dict[str, Any] | None = None) -> Run:
        dag_run, summaries = run_pipeline(self.dag_id, conf, dag_file=str(self.dag_file))
        assert str(dag_run.state) == "success", [(s.name, s.status) for s in summaries]
        assert [s.name for s in summaries] == STEPS
        run = Run(
            dag_run,
            {s.name: s.status for s in summaries},
            {name: ref for s in summaries for name, ref in s.outputs.items()},
        )
        self.runs.append(run)
        return run

    def first_run(self, conf: dict[str, Any] | None = None) -> Run:
        run = self.run(conf)
        assert run.statuses == dict.fromkeys(STEPS, "ran")
        for step in STEPS:
            assert [(d.decision, d.message) for d in decisions(self.dag_id, step, run.run_id)] == [
                ("run", "run: no earlier result of this step in the cache")
            ]
        return run


def decisions(dag_id: str, step: str, run_id: str) -> list[Any]:
    return StepCacheStore().decisions(dag_id, step, run_id)


def expected(ran: set[str]) -> dict[str, str]:
    assert ran <= set(STEPS)
    return {step: "ran" if step in ran else "reused" for step in STEPS}


@pytest.fixture
def wine_copy(airflow_db: Path, dags_folder: Path, request: pytest.FixtureRequest):
    def make(name: str) -> WineCopy:
        return WineCopy(dags_folder, name)

    return make


def test_nothing_changed_reuses_every_step_and_its_outputs(wine_copy):
    copy = wine_copy("unchanged")
    t = time.time()
    first = copy.first_run()
    print("first", time.time() - t)
    metrics = (first.published("metrics") / "metrics.json").read_bytes()
    predictions = (first.published("predictions") / "predictions.csv").read_bytes()
    t = time.time()
    second = copy.run()
    print("second", time.time() - t)
    assert second.statuses == expected(set())
    print(StepCacheStore().list_entries(copy.dag_id, "featurize"))
    print(os.environ.get("PYTHONPATH"))
