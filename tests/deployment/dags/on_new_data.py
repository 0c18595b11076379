"""Runs when files land under incoming/ on the "landing" datastore, with the changed path."""

from airflow.sdk import DAG, Param

from airflow_ml_provider import (
    DataReference,
    DatastoreSchedule,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
)

landing = DataReference(datastore="landing", path_on_datastore="incoming", name="landing")
seen = PipelineData("seen")
with DAG(
    "on_new_data",
    schedule=DatastoreSchedule(
        datastore="landing",
        path_on_datastore="incoming",
        polling_interval=0.05,  # minutes: every 3 seconds
        data_path_parameter_name="input_path",
    ),
    params={"input_path": Param("", type="string")},
    default_args={"tracking": "off"},
):
    PythonScriptStep(
        name="ingest",
        script_name="ingest.py",
        source_directory="on_new_data_steps",
        arguments=["--path", PipelineParameter("input_path"), "--landing", landing, "--out", seen],
        inputs=[landing],
        outputs=[seen],
    )
