"""Azure ML SDK v1 names for step scripts, logging to the step's MLflow run.

Put on ``sys.path`` (last) by the airflow-ml-provider runtime for steps that opt in; an
installed ``azureml`` comes first and wins. Its own parts extend this namespace.
"""

__path__ = __import__("pkgutil").extend_path(__path__, __name__)
