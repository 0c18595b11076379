"""The authoring model: data, parameters, steps and their graph. Pure Python."""

from airflow_ml_provider.pipeline.data import DataReference, PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.graph import PipelineGraph
from airflow_ml_provider.pipeline.steps import EstimatorStep, PythonScriptStep, Step

__all__ = [
    "DataReference",
    "Environment",
    "EstimatorStep",
    "PipelineData",
    "PipelineDefinitionError",
    "PipelineGraph",
    "PipelineParameter",
    "PythonScriptStep",
    "Step",
]
