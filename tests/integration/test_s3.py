"""Datastores on S3 and DataTransferStep, against a real S3 endpoint on loopback (moto server).

The endpoint checks credentials (IAM auth on): the tests create an IAM user and its keys
first, then talk to S3 with them through Airflow connections, as a deployment would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from servers import free_port

from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.runtime.digest import path_digest
from airflow_ml_provider.runtime.staging import local_path

pytestmark = pytest.mark.integration

BUCKET = "ml-data"
BIG = 288 << 20  # larger than 256 MiB (a multiple of the 8 MiB write chunk)


@pytest.fixture(scope="session")
def s3(tmp_path_factory) -> Any:
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    # The first three requests (create the user, its policy, its keys) need no auth.
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    session = {"region_name": "us-east-1", "endpoint_url": endpoint}
    iam = boto3.client("iam", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", **session)
    iam.create_user(UserName="pipelines")
    iam.put_user_policy(
        UserName="pipelines",
        PolicyName="all-s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    keys = iam.create_access_key(UserName="pipelines")["AccessKey"]
    client = boto3.client(
        "s3", aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"], **session
    )
    client.create_bucket(Bucket=BUCKET)
    define_datastore(
        "s3store", f"s3://{BUCKET}/store", endpoint, keys["AccessKeyId"], keys["SecretAccessKey"]
    )

    class S3:
        pass

    s3_ = S3()
    s3_.endpoint, s3_.client = endpoint, client  # type: ignore[attr-defined]
    s3_.key, s3_.secret = keys["AccessKeyId"], keys["SecretAccessKey"]  # type: ignore[attr-defined]
    yield s3_
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(autouse=True)
def _datastores_end_with_the_test():
    """Datastores a test defines (as AIRFLOW_CONN_* variables) are gone after it: a later test
    (validate's, for one) must not find a "nowhere" datastore defined."""
    before = {key for key in os.environ if key.startswith("AIRFLOW_CONN_")}
    yield
    for key in [key for key in os.environ if key.startswith("AIRFLOW_CONN_") and key not in before]:
        del os.environ[key]


def define_datastore(name: str, base_uri: str, endpoint: str | None = None, key: str = "", secret: str = ""):
    extra: dict[str, Any] = {"base_uri": base_uri}
    if endpoint:
        extra["endpoint_url"] = endpoint
    connection = {"conn_type": "mldatastore", "extra": extra}
    if key:
        connection.update(login=key, password=secret)
    os.environ[f"AIRFLOW_CONN_{name.upper()}"] = json.dumps(connection)


def write_dag(dags_folder: Path, dag_id: str, body: str, scripts: dict[str, str] | None = None) -> str:
    if scripts:
        folder = dags_folder / f"{dag_id}_steps"
        folder.mkdir(exist_ok=True)
        for name, text in scripts.items():
            (folder / name).write_text(textwrap.dedent(text))
        with (dags_folder / ".airflowignore").open("a") as ignore:
            ignore.write(f"{dag_id}_steps/\n")
    path = dags_folder / f"{dag_id}.py"
    header = (
        "from airflow.sdk import DAG\n"
        "from airflow_ml_provider import DataReference, DataTransferStep, PipelineData, PythonScriptStep\n"
    )
    path.write_text(
        header
        + f'with DAG("{dag_id}", schedule=None, default_args={{"tracking": "off"}}):\n'
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    return str(path)


def statuses(steps) -> dict[str, str]:
    return {s.name: s.status for s in steps}


def outputs(steps) -> dict[str, dict[str, Any]]:
    return {name: ref for s in steps for name, ref in s.outputs.items()}


def transfer_stats(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "transfer_stats"
            )
        )
        return {row.task_id: XComModel.deserialize_value(row) for row in rows}


SUM_SCRIPT = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--input"); p.add_argument("--output"); p.add_argument("--factor", type=int)
a = p.parse_args()
path = a.input if os.path.isfile(a.input) else os.path.join(a.input, os.listdir(a.input)[0])
numbers = [int(x) * a.factor for x in open(path).read().split()]
os.makedirs(a.output, exist_ok=True)
open(os.path.join(a.output, "numbers.txt"), "w").write("\\n".join(map(str, numbers)) + "\\n")
"""


def test_pipeline_with_raw_data_and_intermediate_outputs_on_s3(airflow_db, dags_folder, s3):
    s3.client.put_object(Bucket=BUCKET, Key="store/raw/numbers.txt", Body=b"1 2 3 4\n")
    dag_file = write_dag(
        dags_folder,
        "s3_pipeline",
        """
        raw = DataReference(datastore="s3store", path_on_datastore="raw/numbers.txt", name="raw")
        doubled = PipelineData("doubled", datastore="s3store")
        tripled = PipelineData("tripled", datastore="s3store")
        PythonScriptStep(name="double", script_name="scale.py", source_directory="s3_pipeline_steps",
                         arguments=["--input", raw, "--output", doubled, "--factor", "2"],
                         inputs=[raw], outputs=[doubled])
        PythonScriptStep(name="triple", script_name="scale.py", source_directory="s3_pipeline_steps",
                         arguments=["--input", doubled, "--output", tripled, "--factor", "3"],
                         inputs=[doubled], outputs=[tripled])
        """,
        {"scale.py": SUM_SCRIPT},
    )
    dag_run, steps = run_pipeline("s3_pipeline", dag_file=dag_file)
    assert str(dag_run.state) == "success", statuses(steps)
    assert statuses(steps) == {"double": "ran", "triple": "ran"}
    tripled = outputs(steps)["tripled"]
    assert tripled["uri"].startswith(f"s3://{BUCKET}/store/pipeline-data/s3_pipeline/")
    key = tripled["uri"].split(f"s3://{BUCKET}/", 1)[1] + "/numbers.txt"
    assert s3.client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"6\n12\n18\n24\n"

    dag_run, again = run_pipeline("s3_pipeline", dag_file=dag_file)
    assert statuses(again) == {"double": "reused", "triple": "reused"}
    assert outputs(again) == outputs(steps)

    # New raw content on S3: both steps run again.
    s3.client.put_object(Bucket=BUCKET, Key="store/raw/numbers.txt", Body=b"1 2 3 5\n")
    dag_run, third = run_pipeline("s3_pipeline", dag_file=dag_file)
    assert statuses(third) == {"double": "ran", "triple": "ran"}


def _write_big(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for _ in range(size // (8 << 20)):
            handle.write(os.urandom(8 << 20))


def test_transfer_local_to_s3_to_local_of_many_files_and_one_large_file(
    airflow_db, dags_folder, s3, tmp_path_factory
):
    source = tmp_path_factory.mktemp("local-source")
    folder = source / "folder"
    for index in range(300):
        sub = folder / f"part-{index % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"file-{index}.bin").write_bytes(os.urandom(1000 + index * 37))
    _write_big(source / "big.bin", BIG)
    define_datastore("localsrc", source.as_uri())
    dag_file = write_dag(
        dags_folder,
        "s3_roundtrip",
        """
        folder = DataReference(datastore="localsrc", path_on_datastore="folder", name="folder")
        big = DataReference(datastore="localsrc", path_on_datastore="big.bin", name="big")
        folder_s3 = PipelineData("folder_s3", datastore="s3store")
        folder_back = PipelineData("folder_back")
        big_s3 = PipelineData("big_s3", datastore="s3store", is_directory=False)
        big_back = PipelineData("big_back", is_directory=False)
        DataTransferStep(name="up_folder", source=folder, destination=folder_s3,
                         source_reference_type="directory")
        DataTransferStep(name="down_folder", source=folder_s3, destination=folder_back,
                         source_reference_type="directory")
        DataTransferStep(name="up_big", source_data_reference=big, destination_data_reference=big_s3)
        DataTransferStep(name="down_big", source_data_reference=big_s3, destination_data_reference=big_back)
        """,
    )
    dag_run, steps = run_pipeline("s3_roundtrip", dag_file=dag_file)
    assert str(dag_run.state) == "success", statuses(steps)
    assert set(statuses(steps).values()) == {"ran"}
    refs = outputs(steps)
    folder_digest, big_digest = path_digest(folder), path_digest(source / "big.bin")
    assert refs["folder_s3"]["uri"].startswith("s3://") and refs["big_s3"]["uri"].startswith("s3://")
    for name, expected in (
        ("folder_s3", folder_digest),
        ("folder_back", folder_digest),
        ("big_s3", big_digest),
        ("big_back", big_digest),
    ):
        assert (refs[name]["digest"], refs[name]["size"], refs[name]["files"]) == (
            expected.digest,
            expected.size,
            expected.files,
        ), name
    for name in ("folder_back", "big_back"):
        assert path_digest(local_path(refs[name]["uri"])).digest == refs[name]["digest"]
    stats = transfer_stats("s3_roundtrip", dag_run.run_id)
    for task in ("up_big.run", "down_big.run"):
        figures = stats[task]
        print(
            f"{task}: {figures['bytes'] / 2**20:.0f} MiB in {figures['seconds']:.1f} s, "
            f"{figures['bytes_per_second'] / 2**20:.1f} MiB/s, peak memory growth "
            f"{figures['peak_memory_growth_bytes'] / 2**20:.1f} MiB"
        )
        assert figures["bytes"] == BIG
        # RSS growth of the whole task process (allocator slack included): well under the file.
        assert figures["peak_memory_growth_bytes"] < BIG / 2, figures

    dag_run, again = run_pipeline("s3_roundtrip", dag_file=dag_file)
    assert set(statuses(again).values()) == {"reused"}
    assert outputs(again) == refs


def test_transfer_reruns_on_new_content_and_not_on_identical_rewrite(airflow_db, dags_folder, s3):
    s3.client.put_object(Bucket=BUCKET, Key="store/inbox/object.bin", Body=b"first version\n" * 1000)
    dag_file = write_dag(
        dags_folder,
        "s3_rewrite",
        """
        inbox = DataReference(datastore="s3store", path_on_datastore="inbox/object.bin", name="inbox")
        DataTransferStep(name="ingest", source=inbox, destination=PipelineData("copy", is_directory=False))
        """,
    )

    def run() -> tuple[str, dict[str, Any]]:
        dag_run, steps = run_pipeline("s3_rewrite", dag_file=dag_file)
        assert str(dag_run.state) == "success"
        return statuses(steps)["ingest"], outputs(steps)["copy"]

    assert run()[0] == "ran"
    status, _ = run()
    assert status == "reused"
    s3.client.put_object(Bucket=BUCKET, Key="store/inbox/object.bin", Body=b"second version\n" * 1000)
    status, second = run()
    assert status == "ran"
    assert local_path(second["uri"]).read_bytes() == b"second version\n" * 1000
    # The same bytes written again: S3's stored checksum is unchanged, so nothing re-runs.
    s3.client.put_object(Bucket=BUCKET, Key="store/inbox/object.bin", Body=b"second version\n" * 1000)
    status, third = run()
    assert status == "reused"
    assert third == second


def test_store_errors_name_the_datastore_the_path_and_the_cause(airflow_db, dags_folder, s3, capfd):
    define_datastore("badcreds", f"s3://{BUCKET}/store", s3.endpoint, s3.key, "not-the-secret")
    define_datastore("nowhere", f"s3://{BUCKET}/store", f"http://127.0.0.1:{free_port()}", s3.key, s3.secret)
    define_datastore("nobucket", "s3://no-such-bucket/store", s3.endpoint, s3.key, s3.secret)
    s3.client.put_object(Bucket=BUCKET, Key="store/present.txt", Body=b"here\n")
    dag_file = write_dag(
        dags_folder,
        "s3_errors",
        """
        cases = [("creds", "badcreds", "present.txt"), ("endpoint", "nowhere", "present.txt"),
                 ("bucket", "nobucket", "present.txt"), ("key", "s3store", "absent.txt")]
        for name, datastore, path in cases:
            source = DataReference(datastore=datastore, path_on_datastore=path, name=f"src_{name}")
            DataTransferStep(name=f"from_{name}", source=source,
                             destination=PipelineData(f"copy_{name}", is_directory=False))
        """,
    )
    dag_run, steps = run_pipeline("s3_errors", dag_file=dag_file)
    assert str(dag_run.state) == "failed"
    assert set(statuses(steps).values()) == {"failed"}
    assert outputs(steps) == {}
    log = "".join(capfd.readouterr())
    uri = f"s3://{BUCKET}/store/present.txt"
    assert f'datastore "badcreds": cannot read {uri}: access denied' in log
    assert f'datastore "nowhere": cannot read {uri}: the endpoint is unreachable' in log
    assert "(after 4 attempts)" in log
    assert (
        'datastore "nobucket": cannot read s3://no-such-bucket/store/present.txt: '
        'the bucket "no-such-bucket" does not exist' in log
    )
    assert f'datastore "s3store": cannot read s3://{BUCKET}/store/absent.txt: no such file' in log
    assert s3.secret not in log and "not-the-secret" not in log


def test_interrupted_transfer_leaves_no_published_destination(airflow_db, dags_folder, s3, tmp_path_factory):
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    class _Breaking:
        """A file that fails (connection reset) after 2 MiB, as a dropped network source would."""

        def __init__(self, handle: Any) -> None:
            self.handle, self.read_so_far = handle, 0

        def read(self, size: int = -1) -> bytes:
            if self.read_so_far >= 2 << 20:
                raise ConnectionResetError("connection reset by peer")
            data = self.handle.read(size)
            self.read_so_far += len(data)
            return data

        def __enter__(self) -> _Breaking:
            return self

        def __exit__(self, *_: object) -> None:
            self.handle.close()

    class BreakingFileSystem(LocalFileSystem):
        protocol = ("breaking",)

        @classmethod
        def _strip_protocol(cls, path):
            return super()._strip_protocol(str(path).replace("breaking://", "", 1))

        def _open(self, path, mode="rb", **kwargs):
            handle = super()._open(path, mode, **kwargs)
            return _Breaking(handle) if "r" in mode and path.endswith("big.bin") else handle

    fsspec.register_implementation("breaking", BreakingFileSystem, clobber=True)
    source = tmp_path_factory.mktemp("breaking-source")
    (source / "data").mkdir()
    for index in range(5):
        (source / "data" / f"small-{index}.txt").write_bytes(os.urandom(2000))
    _write_big(source / "data" / "big.bin", 24 << 20)
    os.environ["AIRFLOW_CONN_FLAKY"] = json.dumps(
        {"conn_type": "mldatastore", "extra": {"base_uri": "breaking://" + str(source)}}
    )
    dag_file = write_dag(
        dags_folder,
        "s3_interrupted",
        """
        data = DataReference(datastore="flaky", path_on_datastore="data", name="data")
        DataTransferStep(name="to_s3", source=data, source_reference_type="directory",
                         destination=DataReference(datastore="s3store", path_on_datastore="published/data",
                                                   name="published"))
        DataTransferStep(name="to_local", source=data, source_reference_type="directory",
                         destination=PipelineData("local_copy"))
        """,
    )
    dag_run, steps = run_pipeline("s3_interrupted", dag_file=dag_file)
    assert str(dag_run.state) == "failed"
    assert statuses(steps) == {"to_s3": "failed", "to_local": "failed"}
    assert outputs(steps) == {}
    listed = s3.client.list_objects_v2(Bucket=BUCKET, Prefix="store/published/")
    assert listed.get("KeyCount", 0) == 0, [o["Key"] for o in listed.get("Contents", [])]
    uploads = s3.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u for u in uploads if u["Key"].startswith("store/published/")] == []
    from airflow_ml_provider.hooks.datastore import DatastoreHook

    base = local_path(DatastoreHook("default").resolve().uri("pipeline-data/s3_interrupted"))
    leftovers = [p for p in base.rglob("*") if p.is_file()] if base and base.exists() else []
    assert leftovers == []
