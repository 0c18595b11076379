"""``azureml.core`` for step scripts: ``Run.get_context()`` and the objects it returns."""

from .model import Model
from .run import Dataset, Experiment, Run, Workspace

__all__ = ["Dataset", "Experiment", "Model", "Run", "Workspace"]
