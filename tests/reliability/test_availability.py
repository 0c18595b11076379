"""Availability: waits, dead processes, hung servers and damaged files do not stop pipelines."""

from __future__ import annotations

import pytest
from conftest import write_pipeline

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.runs import run_pipeline

pytestmark = pytest.mark.reliability

WRITE = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "done.txt"), "w").write("done\\n")
"""


def test_waiting_for_another_runs_lease_is_deferred_to_a_trigger(
    airflow_db, dags_folder, monkeypatch, ledger, capfd
):
    dag_id = "rel_lease_wait"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_lease_wait_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"make.py": WRITE},
    )
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__REUSE_POKE_SECONDS", "0.5")
    _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
    assert steps[0].status == "ran"
    store = StepCacheStore()
    (entry,) = store.list_entries(dag_id)
    store.clear(fingerprint=entry.fingerprint)
    capfd.readouterr()

    with ledger.fault("another run holds the lease, then dies (reschedule race before the fix)"):
        # A run that took the lease on this fingerprint and died: its lease expires in 4 s.
        assert store.try_lease(entry.base_key, f"{dag_id}|dead_run|make", 4) is None
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        log = "".join(capfd.readouterr())
        assert "run dead_run is computing the same fingerprint" in log
        # The sensor was deferred and its trigger ran (in line under dag.test(), as a triggerer would).
        assert "Pausing task as DEFERRED" in log
        assert "was released or expired" in log
        assert steps[0].status == "ran"
        assert [e.base_key for e in store.list_entries(dag_id)] == [entry.base_key]
