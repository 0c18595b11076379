"""A Python client for pipelines on an Airflow deployment, over Airflow's REST API v2.

    from airflow_ml_provider.client import PipelineClient

    client = PipelineClient("http://airflow:8080", username="admin", password="...")
    run = client.submit("wine_classifier", {"C": 0.5}, experiment_name="wine-tuning", unpause=True)
    run.wait_for_completion(show_output=True)
    for step in run.get_steps():
        print(step.name, step.status, step.explanation)
    run.step("train").get_output_data("model").download("./model")

No Airflow import: it runs on any machine that can reach the API server.
"""

from __future__ import annotations

from airflow_ml_provider.client.api import AirflowApi, ClientError
from airflow_ml_provider.client.pipeline_run import PipelineRun
from airflow_ml_provider.client.pipelines import Parameter, ParameterError, PipelineClient
from airflow_ml_provider.client.records import OutputData, StepRun, step_status
from airflow_ml_provider.handoff import ProducedBy

__all__ = [
    "AirflowApi",
    "ClientError",
    "OutputData",
    "Parameter",
    "ParameterError",
    "PipelineClient",
    "PipelineRun",
    "ProducedBy",
    "StepRun",
    "step_status",
]
