"""Nothing leaked: planted secrets are searched for everywhere a run leaves text behind.

Kubernetes cannot run here: the pod request is built with KubernetesPodOperator's own
``build_pod_request_obj`` (as tests/unit/test_compute.py does) and searched whole. The MLflow
server, the S3 endpoint (moto), the runs and the script subprocesses are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import write_pipeline
from kubernetes.client import ApiClient

from airflow_ml_provider.compute.kubernetes import (
    SECRET_KEY,
    SECRETS_VARIABLE,
    SPEC_VARIABLE,
    pod_operator,
    pod_secret,
)
from airflow_ml_provider.dag_runs import run_pipeline
from airflow_ml_provider.hooks.compute import ComputeTarget
from airflow_ml_provider.runtime import InputSpec, OutputSpec, StepSpec

pytestmark = pytest.mark.reliability

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {token: unused}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
"""

SHOW_CREDENTIALS = """
import hashlib, os
for name in ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
    print(name, hashlib.sha256(os.environ.get(name, "").encode()).hexdigest())
"""


def test_pod_request_holds_no_credential_and_runs_no_shell(tmp_path: Path, ledger) -> None:
    key = ledger.plant("AKIAPLANTEDPODKEY0001")
    secret = ledger.plant("planted-pod-s3-secret-7f3a9c")
    token = ledger.plant("planted-pod-session-token-51d2")
    password = ledger.plant("planted-pod-mlflow-password-c0de")
    mlflow_token = ledger.plant("planted-pod-mlflow-token-9e8d")
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    hostile_python = "python3; touch /tmp/pwned"
    target = ComputeTarget(
        "gpu",
        "kubernetes",
        None,
        {"image": "registry.example/ml:1", "namespace": "ml", "config_file": str(tmp_path / "kubeconfig"),
         "python": hostile_python},
    )  # fmt: skip
    options = {"key": key, "secret": secret, "token": token, "client_kwargs": {"region_name": "eu-west-1"}}
    spec = StepSpec(
        step="train",
        script="show.py",
        source_directory=str(tmp_path / "code"),
        arguments=[],
        inputs=[InputSpec("features", "s3://ml/features", "download", options)],
        outputs=[OutputSpec("model", "s3://ml/pipeline-data/model", True, options)],
        work_directory=str(tmp_path / "work"),
        python=sys.executable,
        environment={
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "MLFLOW_TRACKING_USERNAME": "alice",
            "MLFLOW_TRACKING_PASSWORD": password,
            "MLFLOW_TRACKING_TOKEN": mlflow_token,
        },
    )
    with ledger.fault("S3 keys and MLflow password in a kubernetes step (plain in the pod spec before)"):
        operator = pod_operator(target, spec, None, secret_name="aml-train-attempt")
        pod = operator.build_pod_request_obj()
        request = json.dumps(ApiClient().sanitize_for_serialization(pod))
        assert ledger.search("pod request", request) == []
        assert operator.log_pod_spec_on_failure is False
        base = pod.spec.containers[0]
        assert base.command == [hostile_python] and "sh" not in base.args and "-c" not in base.args
        (from_secret,) = [item for item in base.env if item.name == SECRETS_VARIABLE]
        assert from_secret.value_from.secret_key_ref.name == "aml-train-attempt"
        manifest = pod_secret(target, spec, "aml-train-attempt")
        assert manifest is not None and manifest.metadata.namespace == "ml"
        carried = manifest.string_data[SECRET_KEY]
        assert {key, secret, token, password, mlflow_token} <= {item["value"] for item in json.loads(carried)}

    with ledger.fault("the runtime in a pod gets the credentials back from its Secret"):
        # The runtime as the pod runs it (its command and arguments, no shell), locally: the
        # spec from its variable, the credentials from the variable the Secret fills.
        code = tmp_path / "code"
        code.mkdir()
        (code / "show.py").write_text(SHOW_CREDENTIALS)
        env = {item.name: item.value for item in base.env if item.value is not None}
        in_pod = StepSpec.from_json(env[SPEC_VARIABLE])
        local = json.loads(in_pod.to_json())
        local.update(
            python=sys.executable, source_directory=str(code), inputs=[], outputs=[], python_path=[],
            work_directory=str(tmp_path / "work"),
        )  # fmt: skip
        # Without an S3 endpoint here, the data's credentials stay out; the script's go in.
        script_secrets = json.dumps(
            [item for item in json.loads(carried) if item["path"][0] == "environment"]
        )
        result = tmp_path / "xcom" / "return.json"
        done = subprocess.run(
            [sys.executable, *base.args[:-1], str(result)],
            env={**os.environ, SPEC_VARIABLE: json.dumps(local), SECRETS_VARIABLE: script_secrets},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        import hashlib

        for name, value in (("MLFLOW_TRACKING_PASSWORD", password), ("MLFLOW_TRACKING_TOKEN", mlflow_token)):
            assert f"{name} {hashlib.sha256(value.encode()).hexdigest()}" in done.stdout
        assert result.is_file()
        assert ledger.search("pod runtime output", done.stdout + done.stderr) == []


LOAD = """
import argparse, os
import mlflow
parser = argparse.ArgumentParser()
parser.add_argument("--raw"); parser.add_argument("--out")
args = parser.parse_args()
rows = open(os.path.join(args.raw, "raw.csv")).read().splitlines()
mlflow.log_metric("rows", len(rows))
os.makedirs(args.out, exist_ok=True)
open(os.path.join(args.out, "rows.csv"), "w").write("\\n".join(rows) + "\\n")
"""

USE = """
import argparse, os, shutil
parser = argparse.ArgumentParser()
parser.add_argument("--rows"); parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
shutil.copy(os.path.join(args.rows, "rows.csv"), os.path.join(args.out, "copy.csv"))
"""


def _xcom_text(dag_id: str) -> str:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id))
        return json.dumps(
            [[row.task_id, row.key, XComModel.deserialize_value(row)] for row in rows], default=str
        )


def test_secrets_in_connections_appear_nowhere_after_a_tracked_run_on_s3(
    airflow_db, dags_folder, tmp_path, monkeypatch, ledger, capfd, s3_endpoint, mlflow_server
) -> None:
    from mlflow.tracking import MlflowClient

    from airflow_ml_provider import settings
    from airflow_ml_provider.settings import provider_home

    mlflow_password = ledger.plant("planted-mlflow-uri-password-4b1e")
    mlflow_token = ledger.plant("planted-mlflow-token-a77c")
    key_id = ledger.plant("AKIAPLANTEDLAKEKEY002")
    s3_secret = ledger.plant("planted-lake-s3-secret-0d9f")
    session_token = ledger.plant("planted-lake-session-token-e3b5")
    host = mlflow_server.uri.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_MLFLOW_DEFAULT",
        json.dumps({"conn_type": "ml_tracking", "host": f"http://alice:{mlflow_password}@{host}",
                    "extra": {"token": mlflow_token}}),
    )  # fmt: skip
    lake = {
        "base_uri": f"s3://{s3_endpoint.bucket}/lake",
        "endpoint_url": s3_endpoint.endpoint,
        "aws_session_token": session_token,
    }
    monkeypatch.setenv(
        "AIRFLOW_CONN_REL_LAKE",
        json.dumps({"conn_type": "ml_datastore", "login": key_id, "password": s3_secret, "extra": lake}),
    )
    s3_endpoint.client.put_object(Bucket=s3_endpoint.bucket, Key="lake/raw/raw.csv", Body=b"a\nb\nc\n")
    dag_id = "rel_secrets_run"
    dag_file = write_pipeline(
        dags_folder,
        dag_id,
        """
        raw = DataReference(datastore="rel_lake", path_on_datastore="raw", name="raw")
        rows, copy = PipelineData("rows", datastore="rel_lake"), PipelineData("copy")
        PythonScriptStep(name="load", script_name="load.py", source_directory="rel_secrets_run_steps",
                         arguments=["--raw", raw, "--out", rows], inputs=[raw], outputs=[rows])
        PythonScriptStep(name="use", script_name="use.py", source_directory="rel_secrets_run_steps",
                         arguments=["--rows", rows, "--out", copy], inputs=[rows], outputs=[copy])
        """,
        {"load.py": LOAD, "use.py": USE},
        default_args="{}",
    )
    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    with ledger.fault("credentials in the tracking URI, token, S3 key, secret and session token"):
        _, steps = run_pipeline(dag_id, dag_file=str(dag_file))
        assert [s.status for s in steps] == ["ran", "ran"]
        client = MlflowClient(tracking_uri=mlflow_server.uri)
        (experiment,) = [e for e in client.search_experiments() if e.name == dag_id]
        runs = client.search_runs([experiment.experiment_id])
        assert runs and any(r.data.metrics.get("rows") == 3 for r in runs)

        found = ledger.search("logs", "".join(capfd.readouterr()))
        found += ledger.search_tree("logs", Path(os.environ["AIRFLOW_HOME"]) / "logs")
        found += ledger.search("XCom", _xcom_text(dag_id))
        found += ledger.search("MLflow", json.dumps([r.to_dictionary() for r in runs], default=str))
        found += ledger.search_tree("MLflow", mlflow_server.folder)
        found += ledger.search_tree("cache DBs", provider_home() / "step-cache.db")
        found += ledger.search_tree("cache DBs", Path(settings.stat_cache_path()))
        found += ledger.search_tree("metadata DB", Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
        found += ledger.search_tree("temp folders", provider_home())
        for entry in set(Path(tempfile.gettempdir()).iterdir()) - temp_before:
            found += ledger.search_tree("temp folders", entry)
        assert found == []
