-- Beside Airflow's metadata database: the MLflow tracking store and the step cache.
CREATE DATABASE mlflow;
CREATE DATABASE ml_step_cache;
