"""Azure ML v1 sample "pipelines with data dependency steps", ported by changing its imports.

train -> extract -> compare, wired by the PipelineData they pass on. As in the sample the
pipeline is given only its last step; the steps that produce its inputs come with it.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    DataReference,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()
aml_compute = AmlCompute(ws, "cpu-cluster")
source_directory = "steps/data_dependency"

blob_input_data = DataReference(
    datastore=def_blob_store, data_reference_name="test_data", path_on_datastore="azure_v1/news/20news.txt"
)
processed_data1 = PipelineData("processed_data1", datastore=def_blob_store)
processed_data2 = PipelineData("processed_data2", datastore=def_blob_store)
processed_data3 = PipelineData("processed_data3", datastore=def_blob_store)
pipeline_param = PipelineParameter(name="pipeline_arg", default_value=10)

trainStep = PythonScriptStep(
    script_name="train.py",
    arguments=["--input_data", blob_input_data, "--output_train", processed_data1],
    inputs=[blob_input_data],
    outputs=[processed_data1],
    compute_target=aml_compute,
    source_directory=source_directory,
)
extractStep = PythonScriptStep(
    script_name="extract.py",
    arguments=["--input_extract", processed_data1, "--output_extract", processed_data2],
    inputs=[processed_data1],
    outputs=[processed_data2],
    compute_target=aml_compute,
    source_directory=source_directory,
)
compareStep = PythonScriptStep(
    script_name="compare.py",
    arguments=[
        "--compare_data1",
        processed_data1,
        "--compare_data2",
        processed_data2,
        "--output_compare",
        processed_data3,
        "--pipeline_param",
        pipeline_param,
    ],
    inputs=[processed_data1, processed_data2],
    outputs=[processed_data3],
    compute_target=aml_compute,
    source_directory=source_directory,
)

pipeline1 = Pipeline(workspace=ws, steps=[compareStep], dag_id="v1_data_dependency", azureml_compat=True)
