"""Azure ML v1 sample "set up a schedule for a published pipeline", ported.

``Schedule.create(ws, ..., recurrence=ScheduleRecurrence(frequency="Minute", interval=15))``
becomes the DAG's own schedule: Airflow's scheduler runs it every 15 minutes from
``start_time``, and the DAG starts paused, as a new schedule is. Schedules that watch a
datastore are Airflow assets with a watcher (see the README).
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    DataReference,
    Pipeline,
    PipelineData,
    PythonScriptStep,
    ScheduleRecurrence,
    Workspace,
)

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()

news = DataReference(
    datastore=def_blob_store, data_reference_name="news", path_on_datastore="azure_v1/news/20news.txt"
)
counts = PipelineData("counts", datastore=def_blob_store)
count_step = PythonScriptStep(
    name="count_words",
    script_name="count_words.py",
    arguments=["--input", news, "--output", counts],
    outputs=[counts],
    compute_target=AmlCompute(ws, "cpu-cluster"),
    source_directory="steps/schedule",
)

recurrence = ScheduleRecurrence(frequency="Minute", interval=15, start_time="2026-01-01T00:00:00")
pipeline = Pipeline(
    workspace=ws,
    steps=[count_step],
    dag_id="v1_scheduled_pipeline",
    schedule=recurrence,
    catchup=False,
    is_paused_upon_creation=True,
    azureml_compat=True,
)
