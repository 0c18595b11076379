"""Azure ML v1 sample "DataPath and PipelineParameter", ported by changing its imports.

The folder the step reads is a run parameter: ``input_datapath`` is an object Param
(``{"datastore": ..., "path_on_datastore": ...}``) in the trigger form and the REST conf.
Whether the step is reused depends on the content of the folder, not on its path.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    DataPath,
    DataPathComputeBinding,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()
aml_compute = AmlCompute(ws, "cpu-cluster")

data_path = DataPath(datastore=def_blob_store, path_on_datastore="azure_v1/datapaths/sample_datapath1")
datapath1_pipeline_param = PipelineParameter(name="input_datapath", default_value=data_path)
datapath_input = (datapath1_pipeline_param, DataPathComputeBinding(mode="mount"))
string_pipeline_param = PipelineParameter(name="input_string", default_value="sample_string1")

train_step = PythonScriptStep(
    name="train_step",
    script_name="train_with_datapath.py",
    arguments=["--arg1", datapath_input, "--arg2", string_pipeline_param],
    inputs=[datapath_input],
    compute_target=aml_compute,
    source_directory="steps/datapath",
)

pipeline = Pipeline(workspace=ws, steps=[train_step], dag_id="v1_datapath", azureml_compat=True)
