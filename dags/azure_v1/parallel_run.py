"""Azure ML v1 sample "batch inference with ParallelRunStep" (digit identification), ported.

A model is trained on scikit-learn's digits, then ``ParallelRunStep`` runs the entry
script's ``init()`` once per process and ``run(mini_batch)`` over the images, five at a
time in two processes, and appends what ``run`` returns to ``parallel_run_step.txt``.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    Dataset,
    Environment,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineData,
    PythonScriptStep,
    Workspace,
)

ws = Workspace.from_config()
def_data_store = ws.get_default_datastore()
compute_target = AmlCompute(ws, "cpu-cluster")

digits_train = Dataset.Tabular.from_delimited_files(path=(def_data_store, "azure_v1/digits/train"))
digits_batch = Dataset.File.from_files(path=(def_data_store, "azure_v1/digits/batch"))
model = PipelineData("model", datastore=def_data_store)
output_dir = PipelineData(name="inferences", datastore=def_data_store)

train_step = PythonScriptStep(
    name="train_digits",
    script_name="train_digits.py",
    arguments=["--model", model],
    inputs=[digits_train.as_named_input("digits_train")],
    outputs=[model],
    compute_target=compute_target,
    source_directory="steps/parallel_run",
)

batch_env = Environment(name="batch_environment")
parallel_run_config = ParallelRunConfig(
    source_directory="steps/parallel_run",
    entry_script="digit_identification.py",
    mini_batch_size="5",
    error_threshold=10,
    output_action="append_row",
    environment=batch_env,
    compute_target=compute_target,
    process_count_per_node=2,
    node_count=1,
)
parallelrun_step = ParallelRunStep(
    name="predict-digits",
    parallel_run_config=parallel_run_config,
    inputs=[digits_batch.as_named_input("digits_batch").as_mount()],
    output=output_dir,
    side_inputs=[model],
    arguments=["--model", model],
    allow_reuse=True,
)

pipeline = Pipeline(workspace=ws, steps=[parallelrun_step], dag_id="v1_parallel_run", azureml_compat=True)
