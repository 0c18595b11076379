"""OpenLineage for steps: inputs and outputs as datasets named by their URIs, and a run facet
with the fingerprint, whether the step cache was hit, the run that produced the outputs, and
the MLflow run.

The OpenLineage provider is optional (``pip install airflow-ml-provider[openlineage]``): its
listener calls the ``get_openlineage_facets_on_*`` methods of :class:`StepLineageMixin`, and
only then is ``openlineage`` imported. The run task reports what it read and wrote; the reuse
sensor reports a cache hit (the outputs it handed on); a miss is reported by the run task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

FACET_NAME = "mlPipelineStep"


@dataclass(frozen=True)
class StepLineage:
    """What one task of a step read and handed on, and how."""

    step: str
    inputs: list[str]
    outputs: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    cache_hit: bool = False
    source_run: str | None = None
    mlflow_run_id: str | None = None


def dataset_name(uri: str) -> tuple[str, str]:
    """(namespace, name) of a URI per the OpenLineage naming spec.

    Local files: ``file`` and the absolute path; object stores: ``scheme://bucket`` and the key.
    """
    parts = urlsplit(uri)
    if parts.scheme in ("", "file", "local"):
        return "file", parts.path if parts.scheme else uri
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


def operator_lineage(lineage: StepLineage | None, *, succeeded: bool = True) -> Any:
    """An ``OperatorLineage`` for the OpenLineage listener (imported only when it asks)."""
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    if lineage is None:
        return OperatorLineage()
    return OperatorLineage(
        inputs=[InputDataset(*dataset_name(uri)) for uri in lineage.inputs],
        outputs=[OutputDataset(*dataset_name(uri)) for uri in lineage.outputs] if succeeded else [],
        run_facets={FACET_NAME: _step_facet(lineage)},
    )


@cache
def _facet_class() -> Any:
    import attrs
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attrs.define
    class MlPipelineStepRunFacet(RunFacet):
        """A pipeline step's run: its fingerprint, a step cache hit or not, where outputs came from.

        Field names are camelCase, as in OpenLineage's own facets.
        """

        step: str
        fingerprint: str | None
        cacheHit: bool
        sourceRun: str | None
        mlflowRunId: str | None

    return MlPipelineStepRunFacet


def _step_facet(lineage: StepLineage) -> Any:
    return _facet_class()(
        step=lineage.step,
        fingerprint=lineage.fingerprint,
        cacheHit=lineage.cache_hit,
        sourceRun=lineage.source_run,
        mlflowRunId=lineage.mlflow_run_id,
    )


def step_input_uris(
    step: Any, pipeline: Any, ti: Any, params: Any, produced: Mapping[str, Any] | None = None
) -> list[str]:
    """Where a step's inputs are in this run: datastore URIs, and producers' output URIs.

    ``params``: the run's parameters (a DataPath input is where its parameter points). SQL
    sources are left out (a query has no URI here). ``produced``: the producers' references
    already read in this task, by input name (each one not there is pulled from XCom)."""
    from airflow_ml_provider.hooks.datastore import DatastoreHook
    from airflow_ml_provider.pipeline.data import DataReference
    from airflow_ml_provider.pipeline.datapath import bind_run_parameters
    from airflow_ml_provider.pipeline.sql import SqlDataReference
    from airflow_ml_provider.xcom_handoff import produced_reference

    uris = []
    for data in step.inputs:
        data = bind_run_parameters(data, params)
        if isinstance(data, SqlDataReference):
            continue  # a query, not a file: no dataset URI of ours names it
        if isinstance(data, DataReference):
            uris.append(DatastoreHook(data.datastore).resolve().uri(data.path_on_datastore))
        else:
            reference = (produced or {}).get(data.name)
            if reference is None:
                reference = produced_reference(pipeline, step.name, data.name, ti)
            uris.append(reference.uri)
    return uris


class StepLineageMixin:
    """The OpenLineage methods of a step's tasks; ``execute``/``poke`` set ``self.lineage``."""

    lineage: StepLineage | None = None

    def get_openlineage_facets_on_start(self) -> Any:
        return operator_lineage(None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return operator_lineage(self.lineage)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return operator_lineage(self.lineage, succeeded=False)
