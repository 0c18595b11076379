"""train writes a model declared as an Asset ("asset_producer/model")."""

from airflow.sdk import DAG, Param

from airflow_ml_provider import DataReference, PipelineData, PipelineParameter, PythonScriptStep

data = DataReference(datastore="landing", path_on_datastore="training/data.csv", name="data")
model = PipelineData("model", asset=True)
with DAG(
    "asset_producer",
    schedule=None,
    params={"size": Param(3, type="integer")},
    default_args={"tracking": "off"},
):
    PythonScriptStep(
        name="train",
        script_name="train.py",
        source_directory="asset_steps",
        arguments=["--data", data, "--size", PipelineParameter("size"), "--model", model],
        inputs=[data],
        outputs=[model],
    )
