"""Profiles the CSV files that land under ``landing/`` on the default datastore.

Azure ML's ``Schedule.create(datastore=..., path_on_datastore=..., polling_interval=...,
data_path_parameter_name=...)`` as a ``DatastoreSchedule``: the triggerer looks at the
folder every minute (subfolders included); a file that is new or whose content changed
starts one run, with its path on the datastore in the parameter ``new_data`` (several files
at once: the folder holding them). Rewriting a file with the same bytes starts nothing.

Try it with the deployment running:
    airflow-ml datastore upload dags/wine/data/holdout.csv --target-path landing/2026
"""

from airflow.sdk import DAG, Param

from airflow_ml_provider import (
    DataReference,
    DatastoreSchedule,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
)

landing = DataReference(datastore="default", path_on_datastore="landing", name="landing")
profile = PipelineData("profile", asset=True)

with DAG(
    "landing_zone",
    schedule=DatastoreSchedule(
        datastore="default",
        path_on_datastore="landing",
        polling_interval=1,
        data_path_parameter_name="new_data",
    ),
    tags=["ml-pipeline", "example"],
    params={"new_data": Param("landing", type="string", description="What changed, on the datastore")},
):
    PythonScriptStep(
        name="profile",
        script_name="profile.py",
        source_directory="landing_zone",
        arguments=["--landing", landing, "--changed", PipelineParameter("new_data"), "--output", profile],
        inputs=[landing],
        outputs=[profile],
    )
