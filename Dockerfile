# Images for docker-compose.yaml, built from this checkout.
#
#   airflow (default target): the official Airflow image plus this provider. Airflow is pinned to
#       the image's own version in the same pip command, so installing the provider never
#       upgrades or downgrades it.
#   mlflow: the MLflow tracking server, with the PostgreSQL driver and the S3 client its stores use.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

FROM python:3.11-slim-bookworm AS mlflow
RUN pip install --no-cache-dir "mlflow>=3.1" psycopg2-binary boto3
EXPOSE 5000

FROM ${AIRFLOW_IMAGE} AS airflow
COPY --chown=airflow:0 pyproject.toml README.md /opt/airflow-ml-provider/
COPY --chown=airflow:0 airflow_ml_provider /opt/airflow-ml-provider/airflow_ml_provider
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
        "/opt/airflow-ml-provider[s3,celery,examples]" \
 && python -c "import airflow, os, sys; sys.exit(airflow.__version__ != os.environ['AIRFLOW_VERSION'])"
COPY --chown=airflow:0 dags /opt/airflow/dags
