"""Cluster policy (entry point ``airflow.policy``): pipeline checks when a DAG file loads.

Problems that can only be seen once every step is defined (an input that no step
produces) surface here, as an import error that names the DAG, step and argument.
"""

from __future__ import annotations

from typing import Any

from airflow.exceptions import AirflowClusterPolicyViolation
from airflow.policies import hookimpl

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.placement import steps_in_no_dag


@hookimpl
def dag_policy(dag: Any) -> None:
    graph = getattr(dag, "_ml_pipeline", None)
    problems = [str(problem) for problem in graph.problems()] if graph is not None else []
    problems += [_outside_any_dag(dag.dag_id, step) for step in _created_outside(dag)]
    if problems:
        raise AirflowClusterPolicyViolation("\n".join(problems))


def _created_outside(dag: Any) -> list[str]:
    fileloc = getattr(dag, "fileloc", None)
    if not fileloc:
        return []
    return steps_in_no_dag(fileloc)


def _outside_any_dag(dag_id: str, step: str) -> str:
    return str(
        PipelineDefinitionError(
            "it was created outside any `with DAG(...)` block, so it belongs to no pipeline and "
            "would never run.",
            fix="Create it inside the `with DAG(...)` block of the pipeline it belongs to, or list it in "
            "the `Pipeline(steps=[...])` that becomes that DAG.",
            dag_id=dag_id,
            step=step,
        )
    )
