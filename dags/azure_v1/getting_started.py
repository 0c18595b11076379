"""Azure ML v1 sample "getting started with pipelines", ported by changing its imports.

Three steps built before any pipeline, put into two pipelines: side by side
(``v1_getting_started``) and one after another with a ``StepSequence``
(``v1_getting_started_sequence``). The same step objects are in both DAGs; a step whose
code and inputs are unchanged is reused across them, as Azure ML reuses it across
pipelines. Compute: ``cpu-cluster`` is an Airflow connection of type ``mlcomputelocal``.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    DataReference,
    Pipeline,
    PipelineData,
    PythonScriptStep,
    StepSequence,
    Workspace,
)

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()

aml_compute = AmlCompute(ws, "cpu-cluster")

source_directory = "steps/getting_started"
blob_input_data = DataReference(
    datastore=def_blob_store, data_reference_name="test_data", path_on_datastore="azure_v1/news/20news.txt"
)
processed_data1 = PipelineData("processed_data1", datastore=def_blob_store)
processed_data2 = PipelineData("processed_data2", datastore=def_blob_store)

step1 = PythonScriptStep(
    name="hello_world",
    script_name="hello_world.py",
    compute_target=aml_compute,
    source_directory=source_directory,
    allow_reuse=True,
)
step2 = PythonScriptStep(
    name="compare_step",
    script_name="compare.py",
    arguments=["--compare_data1", blob_input_data, "--output_compare", processed_data1],
    inputs=[blob_input_data],
    outputs=[processed_data1],
    compute_target=aml_compute,
    source_directory=source_directory,
)
step3 = PythonScriptStep(
    name="extract_step",
    script_name="extract.py",
    arguments=["--extract_data", blob_input_data, "--output_extract", processed_data2],
    inputs=[blob_input_data],
    outputs=[processed_data2],
    compute_target=aml_compute,
    source_directory=source_directory,
)

pipeline1 = Pipeline(
    workspace=ws,
    steps=[step1, step2, step3],
    description="three independent steps",
    dag_id="v1_getting_started",
    azureml_compat=True,
    tags=["azure-v1-sample"],
)
pipeline1.validate()

pipeline2 = Pipeline(
    workspace=ws,
    steps=StepSequence(steps=[step1, step2, step3]),
    dag_id="v1_getting_started_sequence",
    azureml_compat=True,
    tags=["azure-v1-sample"],
)
