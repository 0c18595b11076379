"""A run started through an endpoint version runs only the code that version froze.

Called by every step's reuse sensor before it decides anything: if the run's conf names an
endpoint version whose pipeline digest is not the digest of the code this worker parsed,
the step fails saying so (the run was started with stale code, or the code changed since).
"""

from __future__ import annotations

from typing import Any

from airflow_ml_provider.run_conf import ENDPOINT


class StaleEndpointVersionError(RuntimeError):
    """The endpoint version a run asked for is not the pipeline's current code."""


def check_endpoint_version(context: Any) -> None:
    dag_run = context.get("dag_run")
    endpoint = (getattr(dag_run, "conf", None) or {}).get(ENDPOINT)
    if not isinstance(endpoint, dict) or not endpoint.get("pipeline_digest"):
        return
    from airflow_ml_provider.endpoints.digest import pipeline_digest

    current = pipeline_digest(context["dag"])
    if current != endpoint["pipeline_digest"]:
        raise StaleEndpointVersionError(
            f'this run asked for endpoint "{endpoint.get("name")}" version {endpoint.get("version")} '
            f"(pipeline {str(endpoint['pipeline_digest'])[:12]}), but the pipeline's current code is "
            f"{current[:12]}: Airflow runs a DAG's latest code only, so that version cannot run. "
            "Publish the current code as a new version and submit that."
        )


class EndpointVersionCheck:
    """``pre_execute`` of a step's reuse sensor: a stale endpoint version fails the task, no retry."""

    def __call__(self, context: Any) -> None:
        from airflow.exceptions import AirflowFailException

        try:
            check_endpoint_version(context)
        except StaleEndpointVersionError as error:
            raise AirflowFailException(str(error)) from None
