"""Scores with each new model of asset_producer: scheduled on its output asset, the model's URI
reaching the step as the parameter model_uri."""

from airflow.sdk import DAG, Param

from airflow_ml_provider import PipelineData, PipelineParameter, PythonScriptStep, output_asset

scores = PipelineData("scores")
with DAG(
    "asset_consumer",
    schedule=output_asset("asset_producer/model"),
    params={"model_uri": Param("", type="string")},
    default_args={"tracking": "off", "asset_parameters": {"asset_producer/model": "model_uri"}},
):
    PythonScriptStep(
        name="score",
        script_name="score.py",
        source_directory="asset_steps",
        arguments=["--model-uri", PipelineParameter("model_uri"), "--out", scores],
        outputs=[scores],
    )
