"""Azure ML v1 sample "how to use EstimatorStep", ported by changing its imports.

The Estimator holds the training script, its folder and its parameters; the iris table is
a tabular dataset the script reads through ``run.input_datasets``.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    Dataset,
    Estimator,
    EstimatorStep,
    Pipeline,
    PipelineData,
    Workspace,
)

ws = Workspace.from_config()
def_blob_store = ws.get_default_datastore()
cpu_cluster = AmlCompute(ws, "cpu-cluster")

iris = Dataset.Tabular.from_delimited_files(path=[(def_blob_store, "azure_v1/iris/iris.csv")])
output = PipelineData("output", datastore=def_blob_store)

est = Estimator(
    source_directory="steps/estimator",
    compute_target=cpu_cluster,
    entry_script="dummy_train.py",
    script_params={"--penalty": 1.0},
    conda_packages=["scikit-learn"],
)

est_step = EstimatorStep(
    name="Estimator_Train",
    estimator=est,
    estimator_entry_script_arguments=["--output", output],
    runconfig_pipeline_params=None,
    inputs=[iris.as_named_input("iris")],
    outputs=[output],
    compute_target=cpu_cluster,
)

pipeline = Pipeline(workspace=ws, steps=[est_step], dag_id="v1_estimatorstep", azureml_compat=True)
