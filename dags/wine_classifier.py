"""A small real ML pipeline: fetch -> ingest -> featurize -> train -> evaluate -> batch-score.

Data: scikit-learn's bundled wine dataset, shipped in ``wine/data``, read from a second
datastore, ``samples``: an ``mldatastore`` connection whose base URI is that folder (or a
bucket holding the same files). ``make demo`` and the tests define it with an environment
variable::

    AIRFLOW_CONN_SAMPLES='{"conn_type": "mldatastore", "extra": {"base_uri": "file:///<repo>/dags/wine/data"}}'

``fetch`` (a DataTransferStep) copies the raw file from there into the pipeline's own
data; it is reused while the file is unchanged.

``train`` runs on the compute target ``gpu``: on a laptop a plain local target, on a
deployment one whose queue sends it to the GPU workers (docker-compose.yaml)::

    AIRFLOW_CONN_GPU='{"conn_type": "mlcomputelocal"}'                          # make demo, tests
    AIRFLOW_CONN_GPU='{"conn_type": "mlcomputelocal", "extra": {"queue": "gpu"}}'  # deployment
"""

from airflow.sdk import DAG, Param

from airflow_ml_provider import (
    DataReference,
    DataTransferStep,
    EstimatorStep,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
)

samples_wine = DataReference(datastore="samples", path_on_datastore="wine.csv", name="samples_wine")
holdout = DataReference(datastore="samples", path_on_datastore="holdout.csv", name="holdout")
raw = PipelineData("raw_wine", is_directory=False)
clean, features = PipelineData("clean"), PipelineData("features")
# Each new model is an event of the Asset "wine_classifier/model" (dags/wine_model_report.py runs on it).
model = PipelineData("model", asset=True)
metrics, predictions = PipelineData("metrics"), PipelineData("predictions")

with DAG(
    "wine_classifier",
    schedule=None,
    tags=["ml-pipeline", "example"],
    params={"C": Param(1.0, type="number", minimum=0.0001, description="Inverse regularisation")},
):
    DataTransferStep(name="fetch", source=samples_wine, destination=raw, source_reference_type="file")
    PythonScriptStep(
        name="ingest",
        script_name="ingest.py",
        source_directory="wine/steps/ingest",
        arguments=["--raw", raw, "--output", clean],
        inputs=[raw],
        outputs=[clean],
    )
    PythonScriptStep(
        name="featurize",
        script_name="featurize.py",
        source_directory="wine/steps/featurize",
        arguments=[
            "--input",
            clean,
            "--output",
            features,
            "--test-size",
            PipelineParameter("test_size", 0.25),
        ],
        inputs=[clean],
        outputs=[features],
    )
    EstimatorStep(
        name="train",
        entry_script="train.py",
        source_directory="wine/steps/train",
        arguments=["--data", features, "--model", model],
        hyperparameters={"C": PipelineParameter("C")},
        inputs=[features],
        outputs=[model],
        register_model="wine-classifier",
        model_alias="candidate",
        compute_target="gpu",
    )
    PythonScriptStep(
        name="evaluate",
        script_name="evaluate.py",
        source_directory="wine/steps/evaluate",
        arguments=["--data", features, "--model", model, "--output", metrics],
        inputs=[features, model],
        outputs=[metrics],
    )
    PythonScriptStep(
        name="score",
        script_name="score.py",
        source_directory="wine/steps/score",
        arguments=["--model", model, "--input", holdout, "--output", predictions],
        inputs=[model, holdout],
        outputs=[predictions],
    )
