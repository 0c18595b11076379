"""Options of one pipeline run, given in its conf (Azure ML v1's submit arguments)."""

from __future__ import annotations

from typing import Any

REGENERATE_OUTPUTS = "regenerate_outputs"
CONTINUE_ON_STEP_FAILURE = "continue_on_step_failure"


def failed_tasks(states: dict[str, Any], run_id: str) -> list[str]:
    """The failed tasks of ``run_id`` in what ``get_task_states`` returns (by run, then task)."""
    by_task = states.get(run_id, states)
    return sorted(task for task, state in by_task.items() if isinstance(state, str) and state == "failed")


def stopped_by_failure(ti: Any, conf: dict[str, Any]) -> str | None:
    """Why this step must not start: ``continue_on_step_failure`` is false in the run's conf
    and a step of the run has failed (Azure ML v1 stops the pipeline then). None: go on."""
    if conf.get(CONTINUE_ON_STEP_FAILURE, True) is not False:
        return None
    failed = failed_tasks(ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]), ti.run_id)
    if not failed:
        return None
    return f"not started: {', '.join(failed)} failed and the run's continue_on_step_failure is false"
