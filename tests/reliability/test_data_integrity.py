"""Nothing lost, nothing stale: outputs keep their place, inputs hold what their producer wrote.

Real pipelines on real DAG files through ``dag.test()``; files are real files, scripts real
subprocesses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_pipeline

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.runs import run_pipeline
from airflow_ml_provider.runtime.spec import OutputSpec
from airflow_ml_provider.runtime.staging import OutputStaging, local_path
from airflow_ml_provider.runtime.transfer import Endpoint, transfer

pytestmark = pytest.mark.reliability

WRITE_VALUE = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--value"); parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "value.txt"), "w") as f:
    f.write(args.value + "\\n")
"""

COPY_VALUE = """
import argparse, os, shutil
parser = argparse.ArgumentParser()
parser.add_argument("--made"); parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
shutil.copy(os.path.join(args.made, "value.txt"), os.path.join(args.out, "value.txt"))
"""


def run_as(monkeypatch: pytest.MonkeyPatch, dag_id: str, dag_file: Path, run_id: str, conf: Any = None):
    """One ``dag.test()`` run under ``run_id``.

    dag.test() names its runs itself; users name them through the REST API or
    ``airflow dags trigger --run-id``. This hands dag.test() the run id such a user would give.
    """
    from airflow.models.dagrun import DagRun

    monkeypatch.setattr(DagRun, "generate_run_id", staticmethod(lambda **_: run_id))
    return run_pipeline(dag_id, conf, dag_file=str(dag_file))


def read_output(reference: dict[str, Any], name: str = "value.txt") -> str:
    path = local_path(reference["uri"])
    assert path is not None
    return (path / name).read_text()


def test_run_ids_that_differ_only_in_unsafe_characters_never_share_outputs(
    airflow_db, dags_folder, monkeypatch, ledger
):
    dag_id = "rel_run_ids"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_run_ids_steps",
                         arguments=["--value", PipelineParameter("value", default_value="a"), "--out", made],
                         outputs=[made])
        """,
        {"make.py": WRITE_VALUE},
    )
    with ledger.fault("run ids exp:1 / exp_1 / exp+1 / exp~1 (one output folder before the fix)"):
        paths = {pipeline_data_path(dag_id, run, "make", 1, "made") for run in ("exp:1", "exp_1", "exp+1")}
        assert len(paths) == 3
        _, steps = run_as(monkeypatch, dag_id, dag_file, "exp:1", {"value": "first"})
        made_first = steps[0].outputs["made"]
        _, steps = run_as(monkeypatch, dag_id, dag_file, "exp_1", {"value": "second"})
        made_second = steps[0].outputs["made"]
        assert made_first["uri"] != made_second["uri"]
        # Nothing lost: the first run's output is where its reference says, as it was written.
        assert read_output(made_first) == "first\n"
        assert read_output(made_second) == "second\n"
        # Nothing stale: a third run with the first run's value reuses the first run's output.
        _, steps = run_as(monkeypatch, dag_id, dag_file, "exp~1", {"value": "first"})
        assert steps[0].status == "reused"
        assert steps[0].outputs["made"] == made_first
        assert read_output(steps[0].outputs["made"]) == "first\n"


def test_publishing_never_replaces_an_output_already_at_its_place(tmp_path, ledger):
    with ledger.fault("an attempt publishing where an earlier output already is"):
        final = tmp_path / "store" / "pipeline-data" / "d" / "r" / "s" / "attempt-1" / "made"
        final.mkdir(parents=True)
        (final / "value.txt").write_text("in use\n")
        staging = OutputStaging(OutputSpec("made", final.as_uri()), tmp_path / "work")
        (staging.path / "value.txt").write_text("new\n")
        warnings: list[str] = []
        record = staging.publish(warnings.append)
        assert (final / "value.txt").read_text() == "in use\n"
        published = local_path(record.uri)
        assert published is not None and published != final and published.parent == final.parent
        assert (published / "value.txt").read_text() == "new\n"
        assert "already exists and is kept" in warnings[0]

        # A copy into step output (a DataTransferStep to PipelineData) keeps it too.
        source = tmp_path / "source.txt"
        source.write_text("copied\n")
        result = transfer(
            Endpoint(source.as_uri()),
            Endpoint(final.as_uri()),
            source_is_directory=False,
            destination_is_directory=True,
            keep_existing=True,
            log=warnings.append,
        )
        assert (final / "value.txt").read_text() == "in use\n"
        copied = local_path(result.uri)
        assert copied is not None and copied != final
        assert (copied / "source.txt").read_text() == "copied\n"


def test_an_input_altered_after_it_was_published_stops_its_reader(airflow_db, dags_folder, ledger, capfd):
    dag_id = "rel_altered_input"
    write_pipeline(
        dags_folder,
        dag_id,
        """
        made, used = PipelineData("made"), PipelineData("used")
        make = PythonScriptStep(name="make", script_name="make.py",
                                source_directory="rel_altered_input_steps",
                                arguments=["--value", "original", "--out", made], outputs=[made])
        tamper = PythonScriptStep(name="tamper", script_name="tamper.py",
                                  source_directory="rel_altered_input_steps",
                                  arguments=["--made", made.as_direct()], inputs=[made.as_direct()],
                                  allow_reuse=False)
        use = PythonScriptStep(name="use", script_name="use.py", source_directory="rel_altered_input_steps",
                               arguments=["--made", made, "--out", used], inputs=[made], outputs=[used])
        use.run_after(tamper)
        """,
        {
            "make.py": WRITE_VALUE,
            "use.py": COPY_VALUE,
            # Another process rewrites a published output behind the pipeline's back.
            "tamper.py": """
                import argparse, os
                parser = argparse.ArgumentParser()
                parser.add_argument("--made")
                path = parser.parse_args().made.removeprefix("file://")
                with open(os.path.join(path, "value.txt"), "w") as f:
                    f.write("tampered\\n")
            """,
        },
    )
    with ledger.fault("a published output rewritten before its reader staged it"):
        _, steps = run_pipeline(dag_id, dag_file=str(dags_folder / f"{dag_id}.py"))
        statuses = {s.name: s.status for s in steps}
        assert statuses == {"make": "ran", "tamper": "ran", "use": "failed"}, statuses
        log = "".join(capfd.readouterr())
        assert 'step "use": input "made" was altered at' in log
        assert StepCacheStore().list_entries(dag_id, "use") == []
