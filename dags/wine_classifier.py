"""A small real ML pipeline: ingest -> featurize -> train -> evaluate -> batch-score.

Data: scikit-learn's bundled wine dataset, shipped in ``wine/data`` and uploaded to the
default datastore by ``airflow-ml datastore upload dags/wine/data --target-path samples/wine``.
"""

from airflow.sdk import DAG, Param

from airflow_ml_provider import DataReference, PipelineData, PipelineParameter, PythonScriptStep

raw = DataReference(datastore="default", path_on_datastore="samples/wine/wine.csv", name="raw_wine")
holdout = DataReference(datastore="default", path_on_datastore="samples/wine/holdout.csv", name="holdout")
clean, features, model = PipelineData("clean"), PipelineData("features"), PipelineData("model")
metrics, predictions = PipelineData("metrics"), PipelineData("predictions")

with DAG(
    "wine_classifier",
    schedule=None,
    tags=["ml-pipeline", "example"],
    params={"C": Param(1.0, type="number", minimum=0.0001, description="Inverse regularisation")},
):
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
    PythonScriptStep(
        name="train",
        script_name="train.py",
        source_directory="wine/steps/train",
        arguments=["--data", features, "--model", model, "--C", PipelineParameter("C")],
        inputs=[features],
        outputs=[model],
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
