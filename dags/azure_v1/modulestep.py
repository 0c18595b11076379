"""Azure ML v1 sample "how to use ModuleStep", ported by changing its imports.

A module, ``AddNumbers``, is published in two versions; the first step runs version 1 by
name, the second runs the module's default version (2) on the first one's output.
"""

from airflow_ml_provider.v1 import (
    AmlCompute,
    InputPortDef,
    Module,
    ModuleStep,
    OutputPortDef,
    Pipeline,
    PipelineData,
    PipelineParameter,
    Workspace,
)

ws = Workspace.from_config()
datastore = ws.get_default_datastore()
aml_compute = AmlCompute(ws, "cpu-cluster")

out_sum = OutputPortDef(name="out_sum", default_datastore_name=datastore.name, default_datastore_mode="mount")
in1 = InputPortDef(name="in1", default_datastore_mode="mount")

module = Module.create(ws, name="AddNumbers", description="Add two numbers")
module.publish_python_script(
    "calculate.py",
    "initial",
    inputs=[],
    outputs=[out_sum],
    version="1",
    source_directory="steps/modulestep/v1",
)
module.publish_python_script(
    "calculate.py",
    "adds the sum of an earlier step",
    inputs=[in1],
    outputs=[out_sum],
    version="2",
    is_default=True,
    source_directory="steps/modulestep/v2",
)

first_sum = PipelineData("first_sum", datastore=datastore)
second_sum = PipelineData("second_sum", datastore=datastore)
pipeline_param_1 = PipelineParameter(name="pipeline_param_1", default_value=3)
pipeline_param_2 = PipelineParameter(name="pipeline_param_2", default_value=5)

first_step = ModuleStep(
    module=module,
    version="1",
    outputs_map={out_sum: first_sum},
    compute_target=aml_compute,
    arguments=["--arg1", pipeline_param_1, "--arg2", pipeline_param_2, "--output_sum", first_sum],
    name="first_sum",
)
second_step = ModuleStep(
    module=module,
    inputs_map={in1: first_sum},
    outputs_map={out_sum: second_sum},
    compute_target=aml_compute,
    arguments=["--arg1", first_sum, "--arg2", pipeline_param_2, "--output_sum", second_sum],
    name="second_sum",
)

pipeline = Pipeline(workspace=ws, steps=[second_step], dag_id="v1_modulestep", azureml_compat=True)
