"""The same step on three compute targets: ``local``, a ``venv`` and a ``docker`` container.

``ml_venv`` and ``ml_docker`` are Airflow connections of types ``mlcomputevenv`` and
``mlcomputedocker``; the DAG file names them only, so it runs unchanged wherever they are
defined. For example:

    export AIRFLOW_CONN_ML_VENV='{"conn_type": "mlcomputevenv"}'
    export AIRFLOW_CONN_ML_DOCKER='{"conn_type": "mlcomputedocker", "extra": {
        "image": "aml-runtime-test:latest", "docker_url": "unix:///var/lib/aml-docker/docker.sock"}}'

Each ``summarize_<target>`` step reads the staged words file and writes a summary; ``compare``
(local) reads all three summaries. The venv step's requirements add ``inflect``, which the
worker does not have: the script spells the word count out with it when it is there.
"""

from airflow.sdk import DAG

from airflow_ml_provider import DataReference, PipelineData, PythonScriptStep
from airflow_ml_provider.pipeline.environment import Environment

words = DataReference(datastore="default", path_on_datastore="samples/20news.txt", name="words")

with DAG("compute_targets", schedule=None, tags=["ml-pipeline", "example"]):
    summaries = []
    for target, environment in [
        ("local", None),
        ("ml_venv", Environment(requirements="compute_targets/requirements.txt")),
        ("ml_docker", None),
    ]:
        summary = PipelineData(f"summary_{target}")
        summaries.append(summary)
        PythonScriptStep(
            name=f"summarize_{target}",
            script_name="summarize.py",
            source_directory="compute_targets",
            arguments=["--words", words, "--output", summary],
            inputs=[words],
            outputs=[summary],
            compute_target=target,
            environment=environment,
        )
    report = PipelineData("report")
    PythonScriptStep(
        name="compare",
        script_name="compare.py",
        source_directory="compute_targets",
        arguments=["--output", report, "--summaries", *summaries],
        inputs=summaries,
        outputs=[report],
    )
