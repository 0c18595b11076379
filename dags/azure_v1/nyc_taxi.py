"""Azure ML v1 sample "NYC taxi data regression model building", ported.

Green and yellow taxi trips are cleansed, merged, filtered, normalized, transformed and
split, then a regression model of the fare is trained (the v1 sample trains with AutoML,
which has no equivalent here: a scikit-learn model takes its place). The data moves as
OutputFileDatasetConfig outputs that later steps read as tables.
"""

import json

from airflow_ml_provider.v1 import (
    AmlCompute,
    CondaDependencies,
    Dataset,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    RunConfiguration,
    Workspace,
)

ws = Workspace.from_config()
default_store = ws.get_default_datastore()
aml_compute = AmlCompute(ws, "cpu-cluster")

aml_run_config = RunConfiguration()
aml_run_config.target = aml_compute
aml_run_config.environment.python.conda_dependencies = CondaDependencies.create(
    pip_packages=["azureml-sdk", "azureml-dataset-runtime[fuse,pandas]"], pin_sdk_version=False
)

green_taxi_data = Dataset.Tabular.from_delimited_files(path=(default_store, "azure_v1/taxi/green"))
yellow_taxi_data = Dataset.Tabular.from_delimited_files(path=(default_store, "azure_v1/taxi/yellow"))

useful_columns = str(
    ["cost", "distance", "dropoff_datetime", "dropoff_latitude", "dropoff_longitude", "passengers",
     "pickup_datetime", "pickup_latitude", "pickup_longitude", "store_forward", "vendor"]
).replace(",", ";")  # fmt: skip
green_columns = json.dumps(
    {"vendorID": "vendor", "lpepPickupDatetime": "pickup_datetime", "lpepDropoffDatetime": "dropoff_datetime",
     "passengerCount": "passengers", "tripDistance": "distance", "pickupLongitude": "pickup_longitude",
     "pickupLatitude": "pickup_latitude", "dropoffLongitude": "dropoff_longitude",
     "dropoffLatitude": "dropoff_latitude", "totalAmount": "cost"}
).replace(",", ";")  # fmt: skip
yellow_columns = green_columns.replace("lpep", "tpep")

cleansed_green_data = OutputFileDatasetConfig(name="cleansed_green_data").read_delimited_files()
cleansed_yellow_data = OutputFileDatasetConfig(name="cleansed_yellow_data").read_delimited_files()
merged_data = OutputFileDatasetConfig(name="merged_data").read_delimited_files()
filtered_data = OutputFileDatasetConfig(name="filtered_data").read_delimited_files()
normalized_data = OutputFileDatasetConfig(name="normalized_data").read_delimited_files()
transformed_data = OutputFileDatasetConfig(name="transformed_data").read_delimited_files()
output_split_train = OutputFileDatasetConfig(name="output_split_train").read_delimited_files()
output_split_test = OutputFileDatasetConfig(name="output_split_test").read_delimited_files()
model = OutputFileDatasetConfig(name="model")


def step(name, script, arguments, inputs, outputs):
    return PythonScriptStep(
        name=name,
        script_name=script,
        arguments=arguments,
        inputs=inputs,
        outputs=outputs,
        runconfig=aml_run_config,
        source_directory="steps/nyc_taxi",
        allow_reuse=True,
    )


cleansingStepGreen = step(
    "cleanse_green",
    "cleanse.py",
    ["--useful_columns", useful_columns, "--columns", green_columns, "--output_cleanse", cleansed_green_data],
    [green_taxi_data.as_named_input("raw_data")],
    [cleansed_green_data],
)
cleansingStepYellow = step(
    "cleanse_yellow",
    "cleanse.py",
    [
        "--useful_columns",
        useful_columns,
        "--columns",
        yellow_columns,
        "--output_cleanse",
        cleansed_yellow_data,
    ],
    [yellow_taxi_data.as_named_input("raw_data")],
    [cleansed_yellow_data],
)
mergingStep = step(
    "merge",
    "merge.py",
    ["--output_merge", merged_data],
    [cleansed_green_data, cleansed_yellow_data],
    [merged_data],
)
filterStep = step(
    "filter",
    "filter.py",
    ["--output_filter", filtered_data],
    [merged_data.as_input(name="merged_data")],
    [filtered_data],
)
normalizeStep = step(
    "normalize",
    "normalize.py",
    ["--output_normalize", normalized_data],
    [filtered_data.as_input(name="filtered_data")],
    [normalized_data],
)
transformStep = step(
    "transform",
    "transform.py",
    ["--output_transform", transformed_data],
    [normalized_data.as_input(name="normalized_data")],
    [transformed_data],
)
testTrainSplitStep = step(
    "train_test_split",
    "train_test_split.py",
    ["--output_split_train", output_split_train, "--output_split_test", output_split_test],
    [transformed_data.as_input(name="transformed_data")],
    [output_split_train, output_split_test],
)
trainStep = step(
    "train",
    "train.py",
    ["--train", output_split_train, "--test", output_split_test, "--model", model],
    [output_split_train, output_split_test],
    [model],
)

pipeline = Pipeline(workspace=ws, steps=[trainStep], dag_id="v1_nyc_taxi", azureml_compat=True)
