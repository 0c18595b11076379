"""Publish a pipeline as a version of an endpoint, and run an endpoint's version.

A version freezes the DAG version Airflow recorded (with the bundle version, where the DAG
bundle is versioned) and the pipeline digest. Airflow starts every run on the DAG's latest
code (a run's bundle version is the DAG's current one; the REST API cannot ask for an older
one), so a version whose code is no longer current is refused: before the request when its
DAG version is not the latest, and by the run itself (its first tasks fail with the reason)
when only step code changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_ml_provider.endpoints.store import EndpointError, EndpointStore, EndpointVersion
from airflow_ml_provider.run_conf import ENDPOINT

if TYPE_CHECKING:
    from airflow_ml_provider.client import PipelineClient, PipelineRun


def latest_dag_version(dag_id: str) -> tuple[int, str | None, str | None]:
    """(version number, bundle name, bundle version) of the DAG's latest version in Airflow."""
    from airflow.models.dag_version import DagVersion
    from airflow.utils.session import create_session

    with create_session() as session:
        latest = DagVersion.get_latest_version(dag_id, session=session)
        if latest is None:
            raise EndpointError(
                f'Airflow has no version of DAG "{dag_id}" yet: the dag-processor has not parsed it. '
                "Check the DAG id and the DAG file's import errors, then publish again."
            )
        return int(latest.version_number), latest.bundle_name, latest.bundle_version


def publish(
    dag_id: str,
    endpoint: str,
    *,
    description: str = "",
    dag_file: str | None = None,
    store: EndpointStore | None = None,
) -> tuple[EndpointVersion, bool]:
    """Record the DAG's current version and pipeline digest as the endpoint's next version.

    Runs where the deployment's DAG files and metadata database are (as ``airflow dags``
    commands do). Returns (the version, whether it is new): publishing unchanged code
    again gives the latest version back.
    """
    from airflow.utils.cli import get_bagged_dag

    from airflow_ml_provider.endpoints.digest import pipeline_digest

    dag = get_bagged_dag(None, dag_id, dagfile_path=dag_file)
    digest = pipeline_digest(dag)
    number, bundle_name, bundle_version = latest_dag_version(dag_id)
    return (store or EndpointStore()).publish(
        endpoint,
        dag_id=dag_id,
        dag_version=number,
        bundle_name=bundle_name,
        bundle_version=bundle_version,
        pipeline_digest=digest,
        description=description,
    )


def endpoint_conf(version: EndpointVersion) -> dict[str, Any]:
    """What a run started through an endpoint carries in its conf (and shows on MLflow)."""
    return {
        "name": version.endpoint,
        "version": version.version,
        "pipeline_digest": version.pipeline_digest,
        "dag_version": version.dag_version,
    }


def submit_endpoint(
    client: PipelineClient,
    endpoint: str,
    version: int | None = None,
    parameters: dict[str, Any] | None = None,
    *,
    store: EndpointStore | None = None,
    **submit_options: Any,
) -> PipelineRun:
    """Run ``version`` (default: the endpoint's default version) of a published pipeline."""
    store = store or EndpointStore()
    found = store.endpoint(endpoint)
    if found.disabled:
        raise EndpointError(
            f'endpoint "{endpoint}" is disabled; enable it with airflow-ml endpoint enable {endpoint}'
        )
    chosen = store.version(endpoint, version)
    current = _latest_dag_version(client, chosen.dag_id)
    if (
        chosen.dag_version is not None
        and current is not None
        and current["version_number"] != chosen.dag_version
    ):
        newer = [v.version for v in store.versions(endpoint) if v.dag_version == current["version_number"]]
        hint = (
            f"submit version {newer[-1]}, which is current"
            if newer
            else f"publish the current code: airflow-ml publish {chosen.dag_id} --endpoint {endpoint}"
        )
        raise EndpointError(
            f'endpoint "{endpoint}" version {chosen.version} is DAG version {chosen.dag_version} of '
            f'"{chosen.dag_id}", but the DAG\'s current code is version {current["version_number"]}. '
            "Airflow runs a DAG's latest code only (a run cannot ask for an older bundle version), "
            f"so that version cannot run any more; {hint}."
        )
    note = (
        f"endpoint {endpoint} version {chosen.version} (pipeline {chosen.pipeline_digest[:12]}, "
        f"DAG version {chosen.dag_version})"
    )
    conf = {**dict(submit_options.pop("conf", None) or {}), ENDPOINT: endpoint_conf(chosen)}
    return client.submit(chosen.dag_id, parameters, conf=conf, note=note, **submit_options)


def _latest_dag_version(client: PipelineClient, dag_id: str) -> dict[str, Any] | None:
    from airflow_ml_provider.client.api import path_part

    found = client.api.request(
        "GET",
        f"/api/v2/dags/{path_part(dag_id)}/dagVersions",
        params={"order_by": "-version_number", "limit": 1},
    )
    versions = found.get("dag_versions") or []
    return dict(versions[0]) if versions else None
