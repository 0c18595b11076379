"""What runs next to a step's script on every compute target. Imports nothing from Airflow."""

from airflow_ml_provider.runtime.execute import run_step
from airflow_ml_provider.runtime.process import ScriptFailedError
from airflow_ml_provider.runtime.spec import InputSpec, OutputRecord, OutputSpec, StepResult, StepSpec
from airflow_ml_provider.runtime.staging import StagingError

__all__ = [
    "InputSpec",
    "OutputRecord",
    "OutputSpec",
    "ScriptFailedError",
    "StagingError",
    "StepResult",
    "StepSpec",
    "run_step",
]
