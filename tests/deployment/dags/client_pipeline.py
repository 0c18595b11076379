"""make -> use, tracked, with two parameters: for the client tests under real Airflow processes."""

from airflow.sdk import DAG, Param

from airflow_ml_provider import PipelineData, PipelineParameter, PythonScriptStep

made, used = PipelineData("made"), PipelineData("used")
with DAG(
    "client_pipeline",
    schedule=None,
    params={"greeting": Param("hello", type="string"), "seconds": Param(0, type="number")},
):
    PythonScriptStep(
        name="make",
        script_name="make.py",
        source_directory="client_steps",
        arguments=["--greeting", PipelineParameter("greeting"), "--seconds", PipelineParameter("seconds"),
                   "--out", made],
        outputs=[made],
    )  # fmt: skip
    PythonScriptStep(
        name="use",
        script_name="use.py",
        source_directory="client_steps",
        arguments=["--made", made, "--out", used],
        inputs=[made],
        outputs=[used],
    )
