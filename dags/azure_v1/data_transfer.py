"""Azure ML v1 sample "data transfer", ported by changing its imports.

A file and a folder are copied between datastores; ``source_reference_type`` is left out,
so each step copies whatever its source is. The folder goes to a fixed path, replaced on
every run that copies (``overwrite=True``); the file goes to the run's own PipelineData,
which a script step then reads. The copies run on the Airflow worker: the Data Factory
compute of the v1 sample is accepted and not used.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    DataFactoryCompute,
    DataReference,
    DataTransferStep,
    Pipeline,
    PipelineData,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
blob_datastore = ws.get_default_datastore()
data_factory_compute = DataFactoryCompute(ws, "adftest")

exports = DataReference(
    datastore=blob_datastore, data_reference_name="exports", path_on_datastore="azure_v1/transfer/exports"
)
archive = DataReference(
    datastore=blob_datastore,
    data_reference_name="archive",
    path_on_datastore="azure_v1/archive/exports",
    overwrite=True,
)
stores = DataReference(
    datastore=blob_datastore, data_reference_name="stores", path_on_datastore="azure_v1/transfer/stores.csv"
)
stores_copy = PipelineData("stores_copy", datastore=blob_datastore)
report = PipelineData("report", datastore=blob_datastore)

transfer_folder = DataTransferStep(
    name="transfer_exports_to_archive",
    source_data_reference=exports,
    destination_data_reference=archive,
    compute_target=data_factory_compute,
)
transfer_file = DataTransferStep(
    name="transfer_stores",
    source_data_reference=stores,
    destination_data_reference=stores_copy,
    compute_target=data_factory_compute,
)
count_step = PythonScriptStep(
    name="count_stores",
    script_name="count.py",
    arguments=["--stores", stores_copy, "--report", report],
    inputs=[stores_copy],
    outputs=[report],
    compute_target=AmlCompute(ws, "cpu-cluster"),
    source_directory="steps/data_transfer",
)

pipeline = Pipeline(
    workspace=ws, steps=[transfer_folder, count_step], dag_id="v1_data_transfer", azureml_compat=True
)
