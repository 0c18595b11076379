"""Azure ML SDK v1 names, for pipelines ported by changing their imports.

Replace every ``from azureml.<module> import X`` of a pipeline definition with
``from airflow_ml_provider.v1 import X``. What each name does here, and what has no
equivalent, is in ``docs/migrating-from-azure-ml-v1.md``. Names load lazily: importing
this package imports nothing of Airflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    # azureml.core
    "Workspace": "airflow_ml_provider.v1.workspace",
    "Experiment": "airflow_ml_provider.v1.experiment",
    "Datastore": "airflow_ml_provider.datastore",
    "Dataset": "airflow_ml_provider.pipeline.datasets",
    "Environment": "airflow_ml_provider.pipeline.runconfig:AzureMLEnvironment",
    "RunConfiguration": "airflow_ml_provider.pipeline.runconfig",
    "CondaDependencies": "airflow_ml_provider.pipeline.runconfig",
    "ComputeTarget": "airflow_ml_provider.v1.compute",
    "AmlCompute": "airflow_ml_provider.v1.compute",
    "DataFactoryCompute": "airflow_ml_provider.v1.compute",
    "ComputeTargetException": "airflow_ml_provider.v1.compute",
    # azureml.data
    "DataReference": "airflow_ml_provider.pipeline.data",
    "DataPath": "airflow_ml_provider.pipeline.datapath",
    "DataPathComputeBinding": "airflow_ml_provider.pipeline.datapath",
    "FileDataset": "airflow_ml_provider.pipeline.datasets",
    "TabularDataset": "airflow_ml_provider.pipeline.datasets",
    "OutputFileDatasetConfig": "airflow_ml_provider.pipeline.datasets",
    "SqlDataReference": "airflow_ml_provider.pipeline.sql",
    # azureml.pipeline.core
    "Pipeline": "airflow_ml_provider.pipeline.pipeline",
    "StepSequence": "airflow_ml_provider.pipeline.pipeline",
    "PipelineData": "airflow_ml_provider.pipeline.data",
    "PipelineParameter": "airflow_ml_provider.pipeline.data",
    "ScheduleRecurrence": "airflow_ml_provider.pipeline.schedule",
    "Module": "airflow_ml_provider.v1.modules",
    "ModuleVersion": "airflow_ml_provider.pipeline.modules",
    "InputPortDef": "airflow_ml_provider.pipeline.modules",
    "OutputPortDef": "airflow_ml_provider.pipeline.modules",
    # azureml.pipeline.steps
    "PythonScriptStep": "airflow_ml_provider.pipeline.steps",
    "EstimatorStep": "airflow_ml_provider.pipeline.steps",
    "DataTransferStep": "airflow_ml_provider.v1.data_transfer",
    "ModuleStep": "airflow_ml_provider.pipeline.modules",
    "ParallelRunStep": "airflow_ml_provider.pipeline.parallel",
    "ParallelRunConfig": "airflow_ml_provider.pipeline.parallel",
    # azureml.train.estimator
    "Estimator": "airflow_ml_provider.pipeline.estimator",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(
            f"airflow_ml_provider.v1 has no {name!r}; docs/migrating-from-azure-ml-v1.md says what to use."
        )
    module, _, attribute = _EXPORTS[name].partition(":")
    return getattr(import_module(module), attribute or name)
