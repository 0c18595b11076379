"""train -> extract -> compare, wired only by the data they pass on.

The shape of Azure ML's "data dependency steps" sample: no ``>>`` anywhere, the order
follows from which step writes and which reads each PipelineData.
"""

from airflow.sdk import DAG

from airflow_ml_provider import DataReference, PipelineData, PipelineParameter, PythonScriptStep

source_directory = "data_dependency"

blob_input_data = DataReference(
    datastore="default", path_on_datastore="samples/20news.txt", data_reference_name="test_data"
)
processed_data1 = PipelineData("processed_data1")
processed_data2 = PipelineData("processed_data2")
processed_data3 = PipelineData("processed_data3")
pipeline_param = PipelineParameter(name="pipeline_arg", default_value=10)

with DAG("data_dependency", schedule=None, tags=["ml-pipeline", "example"]):
    trainStep = PythonScriptStep(
        script_name="train.py",
        arguments=["--input_data", blob_input_data, "--output_train", processed_data1],
        inputs=[blob_input_data],
        outputs=[processed_data1],
        source_directory=source_directory,
    )
    extractStep = PythonScriptStep(
        script_name="extract.py",
        arguments=["--input_extract", processed_data1, "--output_extract", processed_data2],
        inputs=[processed_data1],
        outputs=[processed_data2],
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
        source_directory=source_directory,
    )
