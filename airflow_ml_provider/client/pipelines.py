"""Submit pipelines and find their runs through Airflow's REST API v2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_ml_provider.client.api import AirflowApi, ClientError, path_part
from airflow_ml_provider.client.pipeline_run import PipelineRun
from airflow_ml_provider.run_conf import EXPERIMENT_NAME, REGENERATE_OUTPUTS, RUN_TAGS


class ParameterError(ClientError):
    """Parameters that the pipeline does not declare, or values its Param schema refuses."""


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter as the DAG declares it (a ``Param``)."""

    name: str
    default: Any
    schema: dict[str, Any]
    description: str | None = None


def declared_parameters(dag_details: dict[str, Any]) -> dict[str, Parameter]:
    """The DAG's params from its API record (``GET /api/v2/dags/{dag_id}/details``)."""
    found = {}
    for name, dumped in sorted((dag_details.get("params") or {}).items()):
        dumped = dumped if isinstance(dumped, dict) else {"value": dumped}
        found[name] = Parameter(
            name, dumped.get("value"), dict(dumped.get("schema") or {}), dumped.get("description")
        )
    return found


def check_parameters(dag_id: str, declared: dict[str, Parameter], given: dict[str, Any]) -> None:
    """Refuse unknown names and values the declared schema rejects, before any request is sent."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise ParameterError(
            f'pipeline "{dag_id}" has no parameter{"s" if len(unknown) > 1 else ""} '
            f"{', '.join(repr(name) for name in unknown)}; its parameters: {known}"
        )
    import jsonschema

    for name, value in given.items():
        schema = declared[name].schema
        if not schema:
            continue
        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as error:
            raise ParameterError(
                f'pipeline "{dag_id}": parameter {name!r} = {value!r} is refused: {error.message} '
                f"(declared {schema})"
            ) from None


class PipelineClient:
    """Runs pipelines on an Airflow deployment, as ``Experiment.submit`` does on Azure ML.

    ``PipelineClient("http://airflow:8080", username="admin", password="...")`` or
    ``token="..."``; ``PipelineClient()`` reads ``AIRFLOW_ML_API_URL`` (and ``_TOKEN``,
    ``_USERNAME``, ``_PASSWORD``) from the environment.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        api: AirflowApi | None = None,
    ) -> None:
        self.api = api or AirflowApi.from_environment(url, token=token, username=username, password=password)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> PipelineClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def pipeline(self, dag_id: str) -> dict[str, Any]:
        """The DAG's API record (with its params), or a clear error when there is no such DAG."""
        try:
            return dict(self.api.request("GET", f"/api/v2/dags/{path_part(dag_id)}/details"))
        except ClientError as error:
            if error.status_code == 404:
                raise ClientError(
                    f'there is no pipeline "{dag_id}" on {self.api.url} (no DAG of that id has been '
                    "parsed; check the id, and the DAG file's import errors in the Airflow UI)",
                    404,
                ) from None
            raise

    def parameters(self, dag_id: str) -> dict[str, Parameter]:
        return declared_parameters(self.pipeline(dag_id))

    def submit(
        self,
        dag_id: str,
        parameters: dict[str, Any] | None = None,
        *,
        regenerate_outputs: bool = False,
        experiment_name: str | None = None,
        tags: dict[str, str] | None = None,
        unpause: bool = False,
        run_id: str | None = None,
        note: str | None = None,
        conf: dict[str, Any] | None = None,
    ) -> PipelineRun:
        """Start a run of ``dag_id`` with ``parameters``; returns it at once (see ``wait_for_completion``).

        ``regenerate_outputs`` re-runs every step of this run; ``experiment_name`` puts the
        run's MLflow records in that experiment; ``tags`` go on its MLflow pipeline run.
        A paused pipeline is refused unless ``unpause`` (its runs would wait forever).
        """
        parameters = dict(parameters or {})
        details = self.pipeline(dag_id)
        check_parameters(dag_id, declared_parameters(details), parameters)
        if details.get("is_paused"):
            if not unpause:
                raise ClientError(
                    f'pipeline "{dag_id}" is paused, so its runs would wait until it is unpaused; '
                    "unpause it in the Airflow UI, or pass unpause=True (--unpause)"
                )
            self.api.request("PATCH", f"/api/v2/dags/{path_part(dag_id)}", json={"is_paused": False})
        run_conf: dict[str, Any] = {**(conf or {}), **parameters}
        if regenerate_outputs:
            run_conf[REGENERATE_OUTPUTS] = True
        if experiment_name:
            run_conf[EXPERIMENT_NAME] = experiment_name
        if tags:
            run_conf[RUN_TAGS] = {str(key): str(value) for key, value in tags.items()}
        body: dict[str, Any] = {"logical_date": None, "conf": run_conf}
        if run_id:
            body["dag_run_id"] = run_id
        if note:
            body["note"] = note
        record = self.api.request("POST", f"/api/v2/dags/{path_part(dag_id)}/dagRuns", json=body)
        return PipelineRun(self.api, dag_id, str(record["dag_run_id"]), dict(record))

    def get_run(self, dag_id: str, run_id: str) -> PipelineRun:
        run = PipelineRun(self.api, dag_id, run_id)
        run.refresh()
        return run

    def list_runs(self, dag_id: str, limit: int = 20) -> list[PipelineRun]:
        """The latest runs of a pipeline, newest first."""
        found = self.api.request(
            "GET",
            f"/api/v2/dags/{path_part(dag_id)}/dagRuns",
            params={"limit": limit, "order_by": "-run_after"},
        )
        return [
            PipelineRun(self.api, dag_id, str(record["dag_run_id"]), dict(record))
            for record in found["dag_runs"]
        ]
