"""The step cache store under load and damage: bounded growth, corrupt files, private files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from cache_rows import never_pruned
from conftest import write_pipeline
from sqlalchemy import select

from airflow_ml_provider.caching.store import PRUNE_BATCH, Decision, StepCacheStore, decisions, pre_images
from airflow_ml_provider.dag_runs import run_pipeline

pytestmark = pytest.mark.reliability

TOUCH_OUTPUT = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "done.txt"), "w").write("done\\n")
"""


def xcom_values(dag_id: str, run_id: str, key: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == key
            )
        )
        return {row.task_id: XComModel.deserialize_value(row) for row in rows}


def test_xcom_and_decisions_carry_a_digest_and_the_pre_image_is_stored_once(airflow_db, dags_folder, ledger):
    dag_id = "rel_pre_image_once"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="big", script_name="make.py", source_directory="rel_pre_image_once_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"make.py": TOUCH_OUTPUT},
    )
    code = dags_folder / f"{dag_id}_steps" / "configs"
    code.mkdir()
    for index in range(2000):
        (code / f"config_{index:05d}.yaml").write_text(f"index: {index}\n")

    with ledger.fault("2,000 files in source_directory, three runs (pre-image in XCom and decisions)"):
        runs = [run_pipeline(dag_id, dag_file=str(dag_file)) for _ in range(3)]
        assert [steps[0].status for _, steps in runs] == ["ran", "reused", "reused"]
        claim = xcom_values(dag_id, runs[0][0].run_id, "fingerprint")["big.reuse"]
        assert set(claim) == {"base_key", "holder"}
        assert len(json.dumps(claim)) < 300
        store = StepCacheStore()
        with store.engine.connect() as connection:
            rows = connection.execute(select(decisions).where(decisions.c.dag_id == dag_id)).all()
            assert len(rows) == 3 and all(row.pre_image is None for row in rows)
            stored = connection.execute(
                select(pre_images).where(pre_images.c.base_key == rows[0].base_key)
            ).all()
        assert len(stored) == 1 and len(stored[0].pre_image) > 2000 * 64
        # Explanations still read the pre-image, by its digest.
        (decision,) = store.decisions(dag_id, "big", runs[2][0].run_id)
        assert decision.pre_image is not None and len(decision.pre_image["code"]) == 2001


def test_decisions_older_than_the_ttl_are_pruned(tmp_path, monkeypatch, ledger):
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_TTL_SECONDS", "3600")
    store = StepCacheStore(f"sqlite:///{tmp_path / 'cache.db'}")
    long_ago = time.time() - 7200
    with ledger.fault("a year of decisions (rows never pruned before the fix)"):
        never_pruned(store, 50, long_ago)  # recorded, and last used, two hours ago
        # Each write forgets at most PRUNE_BATCH of them, so that a write stays short: the records
        # of new runs forget all 50 in as many writes as that takes.
        new_runs = [f"new_{index}" for index in range(-(-50 // PRUNE_BATCH))]
        for run_id in new_runs:
            store.record(Decision("d", run_id, "s", "run", "run", "f" * 64, {"version": 1}, time.time()))
        assert [d.run_id for d in store.decisions("d", "s")] == new_runs
        with store.engine.connect() as connection:
            assert [row.base_key for row in connection.execute(select(pre_images))] == ["f" * 64]


RAW_READER = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--raw"); parser.add_argument("--raw-file"); parser.add_argument("--out")
args = parser.parse_args()
data = open(args.raw).read()
# Another writer updates the raw data while the step runs.
with open(args.raw_file, "a") as f:
    f.write("late row\\n")
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "copy.txt"), "w").write(data)
"""


def test_a_result_made_while_its_raw_data_changed_is_not_cached(airflow_db, dags_folder, ledger, capfd):
    from airflow_ml_provider.datastore import Datastore

    dag_id = "rel_raw_changed"
    raw_folder = airflow_db / "ml" / "datastores" / "default" / "samples" / dag_id
    raw_folder.mkdir(parents=True)
    (raw_folder / "raw.txt").write_text("row 1\n")
    # Another writer reaches the same file by another name (the script's own path is read-only).
    alias = airflow_db / f"{dag_id}-raw-alias.txt"
    os.link(raw_folder / "raw.txt", alias)
    assert Datastore().resolve().uri(f"samples/{dag_id}") == raw_folder.as_uri()
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        f"""
        raw = DataReference(datastore="default", path_on_datastore="samples/{dag_id}/raw.txt", name="raw")
        copy = PipelineData("copy")
        PythonScriptStep(name="read", script_name="read.py", source_directory="{dag_id}_steps",
                         arguments=["--raw", raw, "--raw-file", "{alias}", "--out", copy],
                         inputs=[raw], outputs=[copy])
        """,
        {"read.py": RAW_READER},
    )
    with ledger.fault("raw data rewritten while the step that read it ran"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        assert StepCacheStore().list_entries(dag_id) == []
        assert 'input "raw" at' in "".join(capfd.readouterr())


def damage(database: Path) -> None:
    """Overwrite a SQLite file's pages after its header with junk: 'database disk image is malformed'."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    size = database.stat().st_size
    with database.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xa5" * (size - 100))


def test_a_damaged_stat_cache_is_rebuilt_and_a_damaged_step_cache_says_how_to_recover(
    airflow_db, dags_folder, tmp_path, monkeypatch, ledger, capfd
):
    from typer.testing import CliRunner

    from airflow_ml_provider.caching import store as store_module
    from airflow_ml_provider.cli import app

    dag_id = "rel_damaged_cache"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_damaged_cache_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"make.py": TOUCH_OUTPUT},
    )
    cache_db, stat_db = tmp_path / "step-cache.db", tmp_path / "stat-cache.db"
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_URL", f"sqlite:///{cache_db}")
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__STAT_CACHE_PATH", str(stat_db))
    _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
    assert steps[0].status == "ran"
    store_module._engine(f"sqlite:///{cache_db}").dispose()

    with ledger.fault("stat cache database damaged (every pipeline stopped before the fix)"):
        damage(stat_db)
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "reused"
        assert "stat cache" in "".join(capfd.readouterr()) and stat_db.stat().st_size > 0

    runner = CliRunner()
    with ledger.fault("step cache database damaged: a clear error, then `cache clear --all`"):
        store_module._engine(f"sqlite:///{cache_db}").dispose()
        damage(cache_db)
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        log = "".join(capfd.readouterr())
        assert steps[0].status == "failed"
        assert f"the step cache database {cache_db} is damaged" in log
        assert "airflow-ml cache clear --all" in log
        listed = runner.invoke(app, ["cache", "list"])
        assert listed.exit_code == 1 and "is damaged" in listed.output and "Traceback" not in listed.output
        # The opt-in: run without the cache, with a warning.
        monkeypatch.setenv("AIRFLOW__ML_PIPELINES__ON_CACHE_ERROR", "run_uncached")
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        assert "it runs without the cache" in "".join(capfd.readouterr())
        monkeypatch.delenv("AIRFLOW__ML_PIPELINES__ON_CACHE_ERROR")
        cleared = runner.invoke(app, ["cache", "clear", "--all"])
        assert cleared.exit_code == 0, cleared.output
        assert "set aside" in cleared.output
        assert list(tmp_path.glob("step-cache.db.damaged-*"))
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        assert [e.step for e in StepCacheStore().list_entries(dag_id)] == ["make"]


def test_cache_databases_and_the_embedded_mlflow_store_are_private(airflow_db, dags_folder, ledger):
    import stat

    from airflow_ml_provider import settings
    from airflow_ml_provider.settings import provider_home

    dag_id = "rel_private_files"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_private_files_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"make.py": TOUCH_OUTPUT},
        default_args="{}",  # tracked, in the embedded MLflow store
    )
    home = provider_home()
    with ledger.fault("cache DBs and MLflow store readable by every user (0644 before the fix)"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        files = [home / "step-cache.db", Path(settings.stat_cache_path()), home / "mlflow.db"]
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for folder in (home, home / "mlartifacts"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
