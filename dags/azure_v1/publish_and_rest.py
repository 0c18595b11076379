"""Azure ML v1 sample "publish a pipeline and run it from a REST endpoint", ported.

A DAG is already served by Airflow's REST API, with Airflow's authentication: there is
nothing to publish. The v1 sample's request

    requests.post(published_pipeline.endpoint, headers=aad_token,
                  json={"ExperimentName": "My_Pipeline", "ParameterAssignments": {"pipeline_arg": 20}})

becomes (a token from ``POST /auth/token``):

    requests.post(f"{airflow}/api/v2/dags/v1_published_pipeline/dagRuns",
                  headers={"Authorization": f"Bearer {token}"},
                  json={"logical_date": None, "conf": {"pipeline_arg": 20}})
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

blob_input_data = DataReference(
    datastore=def_blob_store, data_reference_name="test_data", path_on_datastore="azure_v1/news/20news.txt"
)
processed = PipelineData("processed", datastore=def_blob_store)
pipeline_param = PipelineParameter(name="pipeline_arg", default_value=10)

trainStep = PythonScriptStep(
    script_name="train.py",
    arguments=[
        "--input_data",
        blob_input_data,
        "--output_train",
        processed,
        "--pipeline_param",
        pipeline_param,
    ],
    inputs=[blob_input_data],
    outputs=[processed],
    compute_target=AmlCompute(ws, "cpu-cluster"),
    source_directory="steps/publish",
)

pipeline1 = Pipeline(workspace=ws, steps=[trainStep], dag_id="v1_published_pipeline", azureml_compat=True)
