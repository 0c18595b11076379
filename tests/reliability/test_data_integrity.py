"""Nothing lost, nothing stale: outputs keep their place, inputs hold what their producer wrote.

Real pipelines on real DAG files through ``dag.test()``; files are real files, scripts real
subprocesses.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from conftest import write_pipeline

from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.copying import Endpoint, transfer
from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.runtime.spec import OutputSpec
from airflow_ml_provider.runtime.staging import OutputStaging, local_path

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


READ_CONFIG = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "value.txt"), "w") as f:
    f.write(open(os.path.join("conf", "value.txt")).read())
"""


def test_a_symlinked_folder_in_source_directory_is_part_of_the_fingerprint(airflow_db, dags_folder, ledger):
    dag_id = "rel_linked_config"
    shared = dags_folder / "rel_linked_shared_conf"
    shared.mkdir()
    (shared / "value.txt").write_text("alpha=0.1\n")
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made")
        PythonScriptStep(name="read", script_name="read.py", source_directory="rel_linked_config_steps",
                         arguments=["--out", made], outputs=[made])
        """,
        {"read.py": READ_CONFIG},
    )
    (dags_folder / f"{dag_id}_steps" / "conf").symlink_to(shared, target_is_directory=True)
    with ledger.fault("a config changed under a folder symlinked into source_directory"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        (shared / "value.txt").write_text("alpha=0.2\n")
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran", "reused with the old config"
        assert read_output(steps[0].outputs["made"]) == "alpha=0.2\n"
        (decision,) = StepCacheStore().decisions(
            dag_id, "read", steps[0].outputs["made"]["produced_by"]["run_id"]
        )
        assert "conf/value.txt changed" in decision.message


def test_folder_links_that_loop_or_leave_the_dag_folder_and_oversized_code_are_refused(tmp_path, ledger):
    from airflow_ml_provider.caching.content import SnapshotError, SnapshotLimits, code_digests
    from airflow_ml_provider.caching.statcache import StatCache

    bundle = tmp_path / "dags"
    code = bundle / "steps"
    code.mkdir(parents=True)
    (code / "step.py").write_text("print(1)\n")
    cache = StatCache(tmp_path / "stat.db")
    limits = SnapshotLimits(max_files=50, max_bytes=1 << 20, roots=(bundle,))
    with ledger.fault("a folder link in source_directory that loops back to it"):
        (code / "loop").symlink_to(code, target_is_directory=True)
        with pytest.raises(SnapshotError, match="a folder it is already inside"):
            code_digests(code, cache, limits)
        (code / "loop").unlink()
    with ledger.fault("a folder link in source_directory to /etc"):
        (code / "system").symlink_to("/etc", target_is_directory=True)
        with pytest.raises(SnapshotError, match="outside the DAG folder"):
            code_digests(code, cache, limits)
        (code / "system").unlink()
    with ledger.fault("100 files in a source_directory capped at 50"):
        for index in range(100):
            (code / f"data_{index}.csv").write_text("1\n")
        with pytest.raises(SnapshotError, match="more than 50 files"):
            code_digests(code, cache, limits)
        (code / ".amlignore").write_text("*.csv\n")
        assert set(code_digests(code, cache, limits)) == {"step.py", ".amlignore"}
    cache.close()


def test_moving_an_output_to_another_datastore_reruns_its_step(
    airflow_db, dags_folder, tmp_path, monkeypatch, ledger
):
    dag_id = "rel_output_datastore"
    lake = tmp_path / "lake2"
    lake.mkdir()
    monkeypatch.setenv(
        "AIRFLOW_CONN_REL_LAKE2",
        json.dumps({"conn_type": "ml_datastore", "extra": {"base_uri": lake.as_uri()}}),
    )
    body = """
        made = PipelineData("made"{datastore})
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_output_datastore_steps",
                         arguments=["--value", "same", "--out", made], outputs=[made])
        """
    dag_file = write_pipeline(dags_folder, dag_id, body.format(datastore=""), {"make.py": WRITE_VALUE})
    with ledger.fault('PipelineData("made") moved to datastore "lake2"'):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].outputs["made"]["uri"].startswith(airflow_db.as_uri())
        write_pipeline(
            dags_folder, dag_id, body.format(datastore=', datastore="rel_lake2"'), {"make.py": WRITE_VALUE}
        )
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran"
        assert steps[0].outputs["made"]["uri"].startswith(lake.as_uri())
        assert read_output(steps[0].outputs["made"]) == "same\n"


PROBE = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--raw"); parser.add_argument("--made"); parser.add_argument("--out")
args = parser.parse_args()
results = []
for path in (args.raw, os.path.join(args.made, "value.txt"), os.path.join(args.made, "new.txt")):
    try:
        with open(path, "a") as f:
            f.write("probe was here\\n")
        results.append("written")
    except OSError as error:
        results.append(type(error).__name__)
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "results.txt"), "w").write(" ".join(results) + "\\n")
"""


def test_mounted_inputs_are_read_only_to_the_script(airflow_db, dags_folder, ledger):
    dag_id = "rel_read_only_inputs"
    raw_folder = airflow_db / "ml" / "datastores" / "default" / "samples" / dag_id
    raw_folder.mkdir(parents=True)
    (raw_folder / "raw.txt").write_text("raw\n")
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        f"""
        raw = DataReference(datastore="default", path_on_datastore="samples/{dag_id}/raw.txt", name="raw",
                            mode="mount")
        made, probed = PipelineData("made"), PipelineData("probed")
        PythonScriptStep(name="make", script_name="make.py", source_directory="{dag_id}_steps",
                         arguments=["--value", "v", "--out", made], outputs=[made])
        PythonScriptStep(name="probe", script_name="probe.py", source_directory="{dag_id}_steps",
                         arguments=["--raw", raw, "--made", made, "--out", probed],
                         inputs=[raw, made], outputs=[probed], allow_reuse=False)
        """,
        {"make.py": WRITE_VALUE, "probe.py": PROBE},
    )
    with ledger.fault("a step writing into its mounted inputs (raw data and a published output)"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert [s.status for s in steps] == ["ran", "ran"]
        assert read_output(steps[1].outputs["probed"], "results.txt").split() == ["OSError"] * 3
        assert (raw_folder / "raw.txt").read_text() == "raw\n"
        assert read_output(steps[0].outputs["made"]) == "v\n"
        assert sorted(p.name for p in local_path(steps[0].outputs["made"]["uri"]).iterdir()) == ["value.txt"]


def test_an_s3_output_rewritten_with_other_bytes_of_the_same_size_is_not_reused(
    airflow_db, dags_folder, monkeypatch, ledger, s3_endpoint
):
    from airflow_ml_provider.caching.statcache import StatCache
    from airflow_ml_provider.caching.verify import output_problem

    monkeypatch.setenv(
        "AIRFLOW_CONN_REL_S3_OUT",
        json.dumps(
            {
                "conn_type": "ml_datastore",
                "login": "key",
                "password": "secret",
                "extra": {"base_uri": f"s3://{s3_endpoint.bucket}/out", "endpoint_url": s3_endpoint.endpoint},
            }
        ),
    )
    dag_id = "rel_s3_rewritten"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        made = PipelineData("made", datastore="rel_s3_out")
        PythonScriptStep(name="make", script_name="make.py", source_directory="rel_s3_rewritten_steps",
                         arguments=["--value", "original", "--out", made], outputs=[made])
        """,
        {"make.py": WRITE_VALUE},
    )
    with ledger.fault("an S3 output rewritten with other bytes of the same size"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        made = steps[0].outputs["made"]
        assert made["uri"].startswith("s3://") and made["store_digest"]
        key = made["uri"].split(f"s3://{s3_endpoint.bucket}/", 1)[1] + "/value.txt"
        assert (
            s3_endpoint.client.get_object(Bucket=s3_endpoint.bucket, Key=key)["Body"].read() == b"original\n"
        )
        s3_endpoint.client.put_object(Bucket=s3_endpoint.bucket, Key=key, Body=b"tampered\n")
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert steps[0].status == "ran", "reused an output whose bytes changed"
        fresh = steps[0].outputs["made"]
        assert fresh["uri"] != made["uri"]

    with ledger.fault("verify_outputs=digest re-hashes an S3 output's bytes"):
        from airflow_ml_provider.hooks.datastore import DatastoreHook

        cache = StatCache(airflow_db / "ml" / "verify-test-stat.db")
        options = DatastoreHook("rel_s3_out").resolve().storage_options
        check = partial(output_problem, "made", cache=cache, storage_options=lambda: options)
        assert check(fresh, full=True) is None
        wrong = {**fresh, "digest": "blake3:" + "0" * 64}
        # The store's checksums still match; only re-reading the bytes finds the difference.
        assert check(wrong, full=False) is None
        assert "its bytes differ" in (check(wrong, full=True) or "")
        cache.close()


def test_without_private_mounts_a_mounted_input_is_a_read_only_copy(tmp_path, monkeypatch, ledger):
    import stat

    from airflow_ml_provider.runtime import staging
    from airflow_ml_provider.runtime.spec import InputSpec

    # This machine allows private mount namespaces; some containers do not. The probe is
    # replaced to take the path such a machine takes (nothing else can reproduce it here).
    monkeypatch.setattr(staging, "read_only_mounts_available", lambda: False)
    raw = tmp_path / "store" / "raw"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text("1\n")
    with ledger.fault("mounted input on a machine without private mount namespaces"):
        read_only: list[str] = []
        logged: list[str] = []
        given = Path(
            staging.stage_input(
                InputSpec("raw", raw.as_uri(), "mount"), tmp_path / "work", logged.append, read_only
            )
        )
        assert given != raw and read_only == []
        assert (given / "a.csv").read_text() == "1\n"
        assert stat.S_IMODE((given / "a.csv").stat().st_mode) == 0o444
        assert "reads a copy" in logged[0]
