"""Cluster policy (entry point ``airflow.policy``): pipeline checks when a DAG file loads.

Problems that can only be seen once every step is defined (an input that no step
produces) surface here, as an import error that names the DAG, step and argument.
"""

from __future__ import annotations

from typing import Any

from airflow.exceptions import AirflowClusterPolicyViolation
from airflow.policies import hookimpl


@hookimpl
def dag_policy(dag: Any) -> None:
    graph = getattr(dag, "_ml_pipeline", None)
    if graph is None:
        return
    problems = graph.problems()
    if problems:
        raise AirflowClusterPolicyViolation("\n".join(str(problem) for problem in problems))
