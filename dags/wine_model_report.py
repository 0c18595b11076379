"""Reports on each new wine model: runs when ``wine_classifier`` produces a new ``model``.

The model output of ``wine_classifier`` is an Airflow Asset (``PipelineData("model",
asset=True)``), so this DAG is scheduled on it; the event's reference (URI, digest,
producing run) reaches the step as the parameter ``model_uri`` through ``asset_parameters``.
A run of ``wine_classifier`` that reuses its model writes no new model and starts nothing here.
"""

from airflow.sdk import DAG, Param

from airflow_ml_provider import PipelineData, PipelineParameter, PythonScriptStep, output_asset

report = PipelineData("report")

with DAG(
    "wine_model_report",
    schedule=output_asset("wine_classifier/model"),
    tags=["ml-pipeline", "example"],
    params={"model_uri": Param("", type="string", description="The model to report on")},
    default_args={"asset_parameters": {"wine_classifier/model": "model_uri"}},
):
    PythonScriptStep(
        name="report",
        script_name="report.py",
        source_directory="wine/steps/report",
        arguments=["--model-uri", PipelineParameter("model_uri"), "--output", report],
        outputs=[report],
    )
