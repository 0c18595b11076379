"""The DAG of wine_yaml.pipeline.yaml, a pipeline spec (edit it in the designer or by hand)."""

from airflow_ml_provider.spec_dag import dag_from_spec

dag = dag_from_spec(__file__, "wine_yaml.pipeline.yaml")
