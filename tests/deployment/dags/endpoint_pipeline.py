"""One step, published behind an endpoint in the endpoint tests (which edit its code)."""

from airflow.sdk import DAG, Param

from airflow_ml_provider import PipelineData, PipelineParameter, PythonScriptStep

scores = PipelineData("scores")
with DAG(
    "endpoint_pipeline",
    schedule=None,
    params={"rows": Param(2, type="integer")},
    default_args={"tracking": "off"},  # the endpoint's MLflow tags: tests/unit/test_client_records.py
):
    PythonScriptStep(
        name="score",
        script_name="score.py",
        source_directory="endpoint_steps",
        arguments=["--rows", PipelineParameter("rows"), "--out", scores],
        outputs=[scores],
    )
