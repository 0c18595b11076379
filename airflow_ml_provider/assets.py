"""Step outputs as Airflow Assets: each new output of a step run is an asset event.

Opt in per output (``PipelineData("model", asset=True)``) or per pipeline
(``default_args={"outputs_as_assets": True}``). The run task lists the assets as its
outlets, so Airflow records an event when it succeeds; the event's extra is the output's
reference ``{uri, digest, size, files, produced_by}``. A reused step's run task is skipped,
so a reused output records no event: its content did not change, and pipelines scheduled
on it must not run again for the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow.sdk import Asset

from airflow_ml_provider.pipeline.data import PipelineData

ASSET_SCHEME = "x-ml-pipeline-output"
PIPELINE_DEFAULT = "outputs_as_assets"


def output_asset(name: str) -> Asset:
    """The Asset of a pipeline output, by its asset name: schedule a consumer on it.

    ``schedule=output_asset("wine_classifier/model")`` runs a DAG each time the step that
    writes ``model`` in ``wine_classifier`` (declared with ``asset=True``) produces a new one.
    """
    return Asset(name=name, uri=f"{ASSET_SCHEME}://{name}", group="ml-pipeline-output")


def asset_name(data: PipelineData, dag_id: str, pipeline_default: bool) -> str | None:
    """The asset name of an output, or None when it is not an asset."""
    if isinstance(data.asset, str):
        return data.asset
    if data.asset or pipeline_default:
        return f"{dag_id}/{data.name}"
    return None


@dataclass(frozen=True)
class OutputAssetEvents:
    """The run task's ``post_execute``: each output's reference becomes its asset event's extra."""

    assets: dict[str, Asset]

    def __call__(self, context: Any, result: Any) -> None:
        for output, asset in self.assets.items():
            if isinstance(result, dict) and output in result:
                context["outlet_events"][asset].extra = dict(result[output])


def run_task_arguments(
    outputs: list[PipelineData], dag_id: str, default_args: dict[str, Any]
) -> dict[str, Any]:
    """``outlets`` and ``post_execute`` for a step's run task ({} when no output is an asset)."""
    pipeline_default = bool(default_args.get(PIPELINE_DEFAULT, False))
    assets = {}
    for data in outputs:
        name = asset_name(data, dag_id, pipeline_default)
        if name is not None:
            assets[data.name] = output_asset(name)
    if not assets:
        return {}
    return {"outlets": list(assets.values()), "post_execute": OutputAssetEvents(assets)}
