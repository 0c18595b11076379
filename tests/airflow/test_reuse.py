"""The step cache through real Airflow runs: which steps re-run after each change, and why.

Every test works on its own copy of the wine pipeline (``<DAGS_FOLDER>/case_<name>/``: the DAG
file with its own dag id, the step code, the ``wine.features`` helper module) and its own raw
data on the default datastore (``samples/case_<name>/``). Fingerprints hold no dag id (a step
equal to another pipeline's step reuses its result), so each copy's scripts also carry a tag
comment: no two tests share cache entries unless they mean to.
Steps and what they read: ingest(raw) -> clean; featurize(clean) -> features;
train(features) -> model; evaluate(features, model) -> metrics; score(model, holdout) -> predictions.
ingest, featurize and score import ``wine.features``; train and evaluate import no first-party module.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_ml_provider.caching.parts import module_path
from airflow_ml_provider.caching.store import CacheEntry, Decision, StepCacheStore
from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.datastore import Datastore
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.runtime.staging import local_path

REPO = Path(__file__).resolve().parents[2]
STEPS = ["fetch", "ingest", "featurize", "train", "evaluate", "score"]
OUTPUT_OF = {
    "fetch": "raw_wine",
    "ingest": "clean",
    "featurize": "features",
    "train": "model",
    "evaluate": "metrics",
    "score": "predictions",
}
IMPORTS_HELPER = {"ingest", "featurize", "score"}


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

    def read(self, output: str, file: str) -> bytes:
        return (self.published(output) / file).read_bytes()


class WineCopy:
    """A private copy of the wine pipeline: own DAG id, step code, helper module and raw data."""

    def __init__(self, dags_folder: Path, name: str, *, tag: str | None = None) -> None:
        self.dag_id = f"wine_reuse_{name}"
        self.root = dags_folder / f"case_{name}"
        shutil.copytree(
            REPO / "dags" / "wine",
            self.root / "wine",
            ignore=shutil.ignore_patterns("data", "__pycache__"),
        )
        # Fingerprints hold no dag id: a step whose code, inputs and parameters equal another
        # pipeline's reuses that pipeline's result. A tag in each script keeps copies apart.
        for step in STEPS[1:]:  # fetch (a DataTransferStep) has no script
            append(self.step_file(step), f"# pipeline copy: {tag or name}\n")
        self.dag_file = self.root / "wine_classifier.py"
        source = (REPO / "dags" / "wine_classifier.py").read_text()
        assert source.count('"wine_classifier"') == 1
        # The raw data comes from the "samples" datastore: each copy gets its own datastore
        # (a connection, as in production) over its own copy of the data.
        assert source.count('datastore="samples"') == 2
        source = source.replace('"wine_classifier"', f'"{self.dag_id}"')
        self.dag_file.write_text(source.replace('datastore="samples"', f'datastore="samples_case_{name}"'))
        self.data_path = f"samples/case_{name}"
        Datastore().upload(REPO / "dags" / "wine" / "data", self.data_path, show_progress=False)
        os.environ[f"AIRFLOW_CONN_SAMPLES_CASE_{name.upper()}"] = json.dumps(
            {"conn_type": "mldatastore", "extra": {"base_uri": Datastore().resolve().uri(self.data_path)}}
        )
        self.raw = self.datastore_file("wine.csv")
        assert self.raw.read_bytes() == (REPO / "dags" / "wine" / "data" / "wine.csv").read_bytes()

    def datastore_file(self, name: str) -> Path:
        path = local_path(Datastore().resolve().uri(f"{self.data_path}/{name}"))
        assert path is not None
        return path

    def step_file(self, step: str, name: str | None = None) -> Path:
        return self.root / "wine" / "steps" / step / (name or f"{step}.py")

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
        return Run(
            dag_run,
            {s.name: s.status for s in summaries},
            {name: reference for s in summaries for name, reference in s.outputs.items()},
        )

    def module_paths(self, entry: Any) -> list[str]:
        """The recorded modules of an entry, as files (recorded relative to the DAG's folder)."""
        return [os.path.realpath(module_path(key, self.root)) for key in entry.modules]

    def first_run(self, conf: dict[str, Any] | None = None) -> Run:
        """The first run of the copy: every step runs, and the copy's own helper module is used."""
        run = self.run(conf)
        assert run.statuses == dict.fromkeys(STEPS, "ran")
        helper = os.path.realpath(self.helper_module)
        for step in STEPS:
            assert [(d.decision, d.message) for d in self.decisions(step, run)] == [
                ("run", "run: no earlier result of this step in the cache")
            ]
            (entry,) = self.entries(step)
            assert entry.produced_by["run_id"] == run.run_id
            assert entry.outputs == {OUTPUT_OF[step]: run.outputs[OUTPUT_OF[step]]}
            # The scripts import `wine.features` of this copy, not the one of dags/wine.
            assert self.module_paths(entry) == ([helper] if step in IMPORTS_HELPER else []), step
        for reference in run.outputs.values():
            assert reference["produced_by"]["run_id"] == run.run_id
            assert reference["digest"] == path_digest(local_path(reference["uri"])).digest
        return run

    def decisions(self, step: str, run: Run) -> list[Decision]:
        return StepCacheStore().decisions(self.dag_id, step, run.run_id)

    def entries(self, step: str) -> list[CacheEntry]:
        return StepCacheStore().list_entries(self.dag_id, step)

    def check(self, run: Run, previous: Run, *, ran: set[str]) -> dict[str, str]:
        """Exactly ``ran`` ran; every other step reused the result ``previous`` had.

        Returns the recorded reason of each step that ran.
        """
        assert ran <= set(STEPS)
        assert run.statuses == {step: "ran" if step in ran else "reused" for step in STEPS}
        reasons = {}
        for step in STEPS:
            output = OUTPUT_OF[step]
            recorded = [(d.decision, d.message) for d in self.decisions(step, run)]
            if step in ran:
                assert len(recorded) == 1 and recorded[0][0] == "run", (step, recorded)
                reasons[step] = recorded[0][1]
                assert run.outputs[output]["produced_by"]["run_id"] == run.run_id
                assert run.outputs[output]["uri"] != previous.outputs[output]["uri"]
            else:
                by = previous.outputs[output]["produced_by"]
                assert recorded == [
                    ("reused", f"reused from run {by['run_id']} (task {step}.run, attempt {by['try']})")
                ], step
                assert run.outputs[output] == previous.outputs[output], step
        return reasons


@pytest.fixture
def wine_copy(airflow_db: Path, dags_folder: Path):
    def make(name: str, *, tag: str | None = None) -> WineCopy:
        return WineCopy(dags_folder, name, tag=tag)

    return make


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))


# (a) and (c): nothing that matters changed


def test_unchanged_pipeline_reuses_every_step_and_its_outputs(wine_copy):
    copy = wine_copy("unchanged")
    first = copy.first_run()
    metrics = first.read("metrics", "metrics.json")
    predictions = first.read("predictions", "predictions.csv")

    second = copy.run()

    copy.check(second, first, ran=set())
    assert second.outputs == first.outputs
    assert second.read("metrics", "metrics.json") == metrics
    assert second.read("predictions", "predictions.csv") == predictions
    for step in STEPS:
        (entry,) = copy.entries(step)
        assert entry.produced_by["run_id"] == first.run_id


def test_touched_files_and_an_unrelated_file_rerun_nothing(wine_copy, dags_folder):
    copy = wine_copy("touched")
    (copy.step_file("train", ".amlignore")).write_text("notes/\n*.log\n")
    first = copy.first_run()
    assert ".amlignore" in copy.entries("train")[0].pre_image["code"]

    # New modification times, same contents: the copy (DAG file, code, helper), the raw
    # data and every published output of the first run.
    touched = [p for p in copy.root.rglob("*") if p.is_file()]
    touched += [p for p in copy.datastore_file("wine.csv").parent.iterdir() if p.is_file()]
    for reference in first.outputs.values():
        published = local_path(reference["uri"])
        touched += [published] if published.is_file() else [p for p in published.rglob("*") if p.is_file()]
    for path in touched:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns + 10**10, stat.st_mtime_ns + 10**10))
    # Files no step is made of: a new README beside the DAG file, and an edit to a module
    # of the `wine` package that no step imports.
    (copy.root / "README.md").write_text("# notes on this pipeline\n")
    append(copy.root / "wine" / "make_data.py", "# not imported by any step\n")
    # Files the step's .amlignore leaves out of its code.
    (copy.step_file("train", "notes")).mkdir()
    (copy.step_file("train", "notes") / "ideas.md").write_text("try C=0.3\n")
    (copy.step_file("train", "debug.log")).write_text("local experiment\n")

    second = copy.run()

    copy.check(second, first, ran=set())
    assert second.outputs == first.outputs
    # The step folders of the copy are not scanned for DAGs (.airflowignore's `wine/`).
    from airflow.utils.file import list_py_file_paths

    scanned = {Path(p) for p in list_py_file_paths(str(dags_folder))}
    assert copy.dag_file in scanned
    assert not [p for p in scanned if p.is_relative_to(copy.root / "wine")]


# (b): a change re-runs the step it touches, and downstream steps whose inputs changed


def test_edited_script_reruns_its_step_and_the_steps_reading_the_changed_output(wine_copy):
    copy = wine_copy("script")
    first = copy.first_run()

    train = copy.step_file("train")
    replace_once(
        train, 'default=1000, help="solver iteration limit"', 'default=2000, help="solver iterations"'
    )
    append(train, "# a longer default solver run\n")
    second = copy.run()

    reasons = copy.check(second, first, ran={"train", "evaluate", "score"})
    assert "train.py changed" in reasons["train"]
    # model.pkl records max_iter, so its digest changed, and both readers of it re-ran.
    assert second.outputs["model"]["digest"] != first.outputs["model"]["digest"]
    assert 'input "model" changed' in reasons["evaluate"]
    assert 'input "model" changed' in reasons["score"]
    assert "features" not in reasons["evaluate"]


def test_upstream_rerun_with_identical_output_leaves_downstream_reused(wine_copy):
    copy = wine_copy("comment")
    first = copy.first_run()

    append(copy.step_file("featurize"), "# reviewed: the split stays stratified\n")
    second = copy.run()

    reasons = copy.check(second, first, ran={"featurize"})
    assert "featurize.py changed" in reasons["featurize"]
    new, old = second.outputs["features"], first.outputs["features"]
    assert new["uri"] != old["uri"]
    assert (new["digest"], new["size"], new["files"]) == (old["digest"], old["size"], old["files"])
    (entry,) = copy.entries("train")
    assert entry.produced_by["run_id"] == first.run_id


def test_edited_helper_module_reruns_the_steps_that_import_it(wine_copy):
    copy = wine_copy("helper")
    first = copy.first_run()

    append(copy.helper_module, "\n# FEATURE_COLUMNS is the order the model sees.\n")
    second = copy.run()

    # ingest, featurize and score import wine.features; their outputs come out byte-identical,
    # so train and evaluate (which import nothing of it) are reused.
    reasons = copy.check(second, first, ran=IMPORTS_HELPER)
    module = os.path.realpath(copy.helper_module)
    for step in IMPORTS_HELPER:
        assert f"imported module {module} changed" in reasons[step], (step, reasons[step])
        assert second.outputs[OUTPUT_OF[step]]["digest"] == first.outputs[OUTPUT_OF[step]]["digest"]
        entries = copy.entries(step)
        assert [e.produced_by["run_id"] for e in entries] == [first.run_id, second.run_id]
        assert all(copy.module_paths(e) == [module] for e in entries)
    assert "input" not in reasons["featurize"]


def test_changed_raw_data_reruns_as_far_as_the_change_reaches(wine_copy):
    copy = wine_copy("raw")
    first = copy.first_run()
    original = copy.raw.read_text()
    first_row = original.splitlines()[1]

    # A duplicated row: the raw file's digest changes, ingest drops the duplicate again.
    copy.raw.write_text(original + first_row + "\n")
    second = copy.run()

    reasons = copy.check(second, first, ran={"fetch", "ingest"})
    assert 'input "samples_wine" changed' in reasons["fetch"]
    assert 'input "raw_wine" changed' in reasons["ingest"]
    assert second.outputs["clean"]["digest"] == first.outputs["clean"]["digest"]

    # Changed values (magnesium + 1 in every row) reach every step through the data.
    rows = list(csv.reader(io.StringIO(original)))
    column = rows[0].index("magnesium")
    for row in rows[1:]:
        row[column] = str(float(row[column]) + 1)
    with copy.raw.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    third = copy.run()

    reasons = copy.check(third, second, ran=set(STEPS))
    assert 'input "samples_wine" changed' in reasons["fetch"]
    assert 'input "raw_wine" changed' in reasons["ingest"]
    assert 'input "clean" changed' in reasons["featurize"]
    assert 'input "features" changed' in reasons["train"]
    assert 'input "model" changed' in reasons["score"]
    for output in ("clean", "features", "model"):
        assert third.outputs[output]["digest"] != second.outputs[output]["digest"], output


def test_changed_parameter_reruns_train_and_its_downstream(wine_copy):
    copy = wine_copy("param")
    first = copy.first_run()

    second = copy.run({"C": 0.5})

    reasons = copy.check(second, first, ran={"train", "evaluate", "score"})
    assert 'parameter "C" changed (1.0 -> 0.5)' in reasons["train"]
    assert second.outputs["model"]["digest"] != first.outputs["model"]["digest"]
    assert 'input "model" changed' in reasons["evaluate"]


def test_changed_requirements_file_reruns_its_step(wine_copy):
    copy = wine_copy("requirements")
    copy.edit_dag(
        "from airflow_ml_provider import",
        "from airflow_ml_provider.pipeline.environment import Environment\nfrom airflow_ml_provider import",
    )
    copy.edit_dag(
        'source_directory="wine/steps/train",',
        'source_directory="wine/steps/train",\n'
        '        environment=Environment(requirements="wine/steps/train/requirements.txt"),',
    )
    first = copy.first_run()
    assert first.outputs  # the environment part was fingerprinted: the steps were cached
    (entry,) = copy.entries("train")
    assert entry.pre_image["environment"]["requirements"].startswith("blake3:")

    append(copy.step_file("train", "requirements.txt"), "numpy\n")
    second = copy.run()

    # The model comes out byte-identical, so evaluate and score are reused.
    reasons = copy.check(second, first, ran={"train"})
    assert 'environment "requirements" changed' in reasons["train"]
    assert "requirements.txt changed" in reasons["train"]
    assert second.outputs["model"]["digest"] == first.outputs["model"]["digest"]


def test_bumped_step_version_reruns_that_step(wine_copy):
    copy = wine_copy("version")
    first = copy.first_run()

    copy.edit_dag('name="featurize",', 'name="featurize",\n        version="2",')
    second = copy.run()

    reasons = copy.check(second, first, ran={"featurize"})
    assert "step version None -> '2'" in reasons["featurize"]
    (old, new) = copy.entries("featurize")
    assert (old.pre_image["step"]["version"], new.pre_image["step"]["version"]) == (None, "2")


# (e): a cached output that is gone or altered is produced again


def test_deleted_output_reruns_its_step_and_replaces_the_entry(wine_copy):
    copy = wine_copy("deleted")
    first = copy.first_run()
    (before,) = copy.entries("train")

    shutil.rmtree(first.published("model"))
    second = copy.run()

    # The model is produced again, byte-identical, so its readers are reused.
    reasons = copy.check(second, first, ran={"train"})
    assert reasons["train"].startswith('re-run: output "model" is gone from'), reasons["train"]
    assert second.outputs["model"]["digest"] == first.outputs["model"]["digest"]
    assert (second.published("model") / "model.pkl").is_file()
    (after,) = copy.entries("train")
    assert after.fingerprint == before.fingerprint
    assert after.produced_by["run_id"] == second.run_id
    assert after.outputs == {"model": second.outputs["model"]}


def test_altered_output_reruns_its_step_and_replaces_the_entry(wine_copy):
    copy = wine_copy("altered")
    first = copy.first_run()
    (before,) = copy.entries("score")
    predictions = first.read("predictions", "predictions.csv")

    append(first.published("predictions") / "predictions.csv", "999,0\n")
    second = copy.run()

    reasons = copy.check(second, first, ran={"score"})
    assert reasons["score"].startswith('re-run: output "predictions" was altered at'), reasons["score"]
    assert second.read("predictions", "predictions.csv") == predictions
    (after,) = copy.entries("score")
    assert after.fingerprint == before.fingerprint
    assert after.produced_by["run_id"] == second.run_id
    assert after.outputs == {"predictions": second.outputs["predictions"]}


# Switches: allow_reuse=False on a step, regenerate_outputs for a run


def test_step_with_allow_reuse_false_always_reruns(wine_copy):
    copy = wine_copy("noreuse")
    copy.edit_dag('name="train",', 'name="train",\n        allow_reuse=False,')
    first = copy.run()
    assert first.statuses == dict.fromkeys(STEPS, "ran")

    second = copy.run()

    reasons = copy.check(second, first, ran={"train"})
    assert reasons["train"] == "run: allow_reuse=False"
    assert second.outputs["model"]["digest"] == first.outputs["model"]["digest"]


def test_regenerate_outputs_reruns_every_step_and_the_next_run_reuses_them(wine_copy):
    copy = wine_copy("regenerate")
    first = copy.first_run()

    second = copy.run({"regenerate_outputs": True})

    reasons = copy.check(second, first, ran=set(STEPS))
    assert set(reasons.values()) == {"run: regenerate_outputs is set for this run"}
    for output, reference in second.outputs.items():
        assert reference["digest"] == first.outputs[output]["digest"], output

    third = copy.run()

    copy.check(third, second, ran=set())
    assert third.outputs == second.outputs
    for step in STEPS:
        (entry,) = copy.entries(step)
        assert entry.produced_by["run_id"] == second.run_id


# Reuse across pipelines: fingerprints hold no dag id, so identical steps share results


def test_identical_steps_of_another_pipeline_with_a_different_helper_module_are_not_reused(wine_copy):
    """A result is only reused if the modules *this* step imports are unchanged.

    Two pipelines, byte-identical step folders and data, but the second one's
    ``wine/features.py`` computes ``flavanoid_ratio`` differently. A hit for the second
    pipeline re-hashes the module paths recorded by the first pipeline's run (its own
    ``case_shared_a/wine/features.py``, unchanged), never the second one's.
    """
    original = wine_copy("shared_a", tag="shared")
    original.first_run()
    copy = wine_copy("shared_b", tag="shared")
    replace_once(
        copy.helper_module,
        'out["flavanoids"] / out["total_phenols"]',
        'out["flavanoids"] / out["proanthocyanins"]',
    )

    # Every step of the copy imports its own helper module, or reads data it changes.
    copy.first_run()
