"""airflow-ml-provider: Azure ML style pipelines of steps, on Airflow 3.

The public names load lazily, so ``airflow_ml_provider.runtime`` (which runs next to
step scripts, possibly without Airflow) does not pull in the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "DataReference": "airflow_ml_provider.pipeline.data",
    "PipelineData": "airflow_ml_provider.pipeline.data",
    "PipelineParameter": "airflow_ml_provider.pipeline.data",
    "PipelineDefinitionError": "airflow_ml_provider.pipeline.errors",
    "PythonScriptStep": "airflow_ml_provider.pipeline.steps",
    "EstimatorStep": "airflow_ml_provider.pipeline.steps",
    "Environment": "airflow_ml_provider.pipeline.environment",
    "Datastore": "airflow_ml_provider.datastore",
    "DataTransferStep": "airflow_ml_provider.pipeline.transfer",
    "Pipeline": "airflow_ml_provider.pipeline.pipeline",
    "StepSequence": "airflow_ml_provider.pipeline.pipeline",
    "DatastoreSchedule": "airflow_ml_provider.schedules.datastore",
    "output_asset": "airflow_ml_provider.assets",
}

__all__ = [
    "DataReference",
    "DataTransferStep",
    "Datastore",
    "DatastoreSchedule",
    "Environment",
    "EstimatorStep",
    "Pipeline",
    "PipelineData",
    "PipelineDefinitionError",
    "PipelineParameter",
    "PythonScriptStep",
    "StepSequence",
    "output_asset",
]

if TYPE_CHECKING:
    from airflow_ml_provider.assets import output_asset
    from airflow_ml_provider.datastore import Datastore
    from airflow_ml_provider.pipeline.data import DataReference, PipelineData, PipelineParameter
    from airflow_ml_provider.pipeline.environment import Environment
    from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
    from airflow_ml_provider.pipeline.pipeline import Pipeline, StepSequence
    from airflow_ml_provider.pipeline.steps import EstimatorStep, PythonScriptStep
    from airflow_ml_provider.pipeline.transfer import DataTransferStep
    from airflow_ml_provider.schedules.datastore import DatastoreSchedule


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'airflow_ml_provider' has no attribute {name!r}")
