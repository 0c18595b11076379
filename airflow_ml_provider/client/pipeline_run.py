"""One pipeline run (an Airflow DAG run) seen through the REST API: state, steps, outputs, waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from airflow_ml_provider.client.api import AirflowApi, ClientError, path_part
from airflow_ml_provider.client.records import (
    FINISHED_RUN_STATES,
    OutputData,
    StepRun,
    steps_from_task_instances,
)
from airflow_ml_provider.handoff import OUTPUTS_KEY, REUSE_DECISION

# The streaming wait endpoint (GET .../dagRuns/{run_id}/wait) exists since Airflow 3.1.
_WAIT_ENDPOINT_SINCE = (3, 1)


class PipelineRun:
    """A submitted (or found) run of a pipeline: ``dag_id`` and ``run_id`` name it."""

    def __init__(self, api: AirflowApi, dag_id: str, run_id: str, record: dict[str, Any] | None = None):
        self.api = api
        self.dag_id = dag_id
        self.run_id = run_id
        self._record = record
        self._order: list[str] | None = None
        self._decisions: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"PipelineRun(dag_id={self.dag_id!r}, run_id={self.run_id!r})"

    @property
    def _path(self) -> str:
        return f"/api/v2/dags/{path_part(self.dag_id)}/dagRuns/{path_part(self.run_id)}"

    def refresh(self) -> dict[str, Any]:
        """The DAG run's API record, read again."""
        self._record = dict(self.api.request("GET", self._path))
        return self._record

    @property
    def record(self) -> dict[str, Any]:
        return self._record if self._record is not None else self.refresh()

    def get_status(self) -> str:
        """Airflow's state of the run: queued, running, success or failed."""
        return str(self.refresh()["state"])

    @property
    def conf(self) -> dict[str, Any]:
        return dict(self.record.get("conf") or {})

    @property
    def note(self) -> str | None:
        return self.record.get("note")

    def get_steps(self, *, outputs: bool = True) -> list[StepRun]:
        """Every step of the run, in pipeline order, with its reuse decision and (if asked) outputs."""
        instances = self.api.request("GET", f"{self._path}/taskInstances", params={"limit": 1000})
        steps = steps_from_task_instances(list(instances["task_instances"]), self._step_order())
        published = self._published_keys()
        for step in steps:
            decision = self._decision(step.name, published)
            step.explanation = decision.get("message") if decision else None
            if outputs:
                step.outputs = self._outputs(step, published)
        return steps

    def step(self, name: str) -> StepRun:
        """One step of the run, by name."""
        steps = self.get_steps()
        for step in steps:
            if step.name == name:
                return step
        known = ", ".join(step.name for step in steps) or "none yet"
        raise KeyError(f'run {self.run_id} of "{self.dag_id}" has no step "{name}" (steps: {known})')

    def cancel(self) -> None:
        """Stop the run: Airflow marks it failed and stops its running tasks."""
        self._record = dict(self.api.request("PATCH", self._path, json={"state": "failed"}))

    def wait_for_completion(
        self,
        *,
        show_output: bool = False,
        timeout: float | None = None,
        interval: float = 2.0,
        console: Any = None,
    ) -> str:
        """Block until the run finishes; returns its final state (success or failed).

        ``show_output`` keeps a live table of the steps on the console (ran, reused,
        running, failed, durations, why each step ran or was reused). Uses Airflow's
        streaming wait endpoint where the server has it, else polls the run.
        """
        progress = None
        if show_output:
            from airflow_ml_provider.client.progress import StepsProgress

            progress = StepsProgress(self, console)
        deadline = None if timeout is None else time.monotonic() + timeout
        state = str(self.record.get("state"))
        try:
            for state in self._states(interval):
                if progress is not None:
                    progress.update(self.get_steps(outputs=False))
                if state in FINISHED_RUN_STATES:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"run {self.run_id} of {self.dag_id} is still {state} after {timeout:g} s"
                    )
        finally:
            if progress is not None:
                progress.stop()
        self.refresh()
        if progress is not None:
            progress.final(self.get_steps(), state)
        return state

    def _states(self, interval: float) -> Iterator[str]:
        if _server_version(self.api) >= _WAIT_ENDPOINT_SINCE:
            for line in self.api.stream_lines(f"{self._path}/wait", params={"interval": interval}):
                yield str(line["state"])
            return
        while True:
            yield self.get_status()
            time.sleep(interval)

    def _step_order(self) -> list[str]:
        """Step names in dependency order (from the DAG's tasks), read once."""
        if self._order is None:
            tasks = self.api.request("GET", f"/api/v2/dags/{path_part(self.dag_id)}/tasks")["tasks"]
            downstream = {task["task_id"]: list(task.get("downstream_task_ids") or []) for task in tasks}
            self._order = _step_names(_topological(downstream))
        return self._order

    def _published_keys(self) -> set[tuple[str, str]]:
        """(task id, key) of every XCom the run has so far, in one request."""
        found = self.api.request("GET", f"{self._path}/taskInstances/~/xcomEntries", params={"limit": 1000})
        return {(entry["task_id"], entry["key"]) for entry in found["xcom_entries"]}

    def _xcom(self, task_id: str, key: str) -> Any:
        path = f"{self._path}/taskInstances/{path_part(task_id)}/xcomEntries/{path_part(key)}"
        return self.api.request("GET", path)["value"]

    def _decision(self, step: str, published: set[tuple[str, str]]) -> dict[str, Any] | None:
        task_id = f"{step}.reuse"
        if step not in self._decisions and (task_id, REUSE_DECISION) in published:
            value = self._xcom(task_id, REUSE_DECISION)
            if isinstance(value, dict):
                self._decisions[step] = value
        return self._decisions.get(step)

    def _outputs(self, step: StepRun, published: set[tuple[str, str]]) -> dict[str, OutputData]:
        for role in ("run", "reuse"):
            task_id = f"{step.name}.{role}"
            if (task_id, OUTPUTS_KEY) in published:
                value = self._xcom(task_id, OUTPUTS_KEY)
                if isinstance(value, dict):
                    return {
                        name: OutputData.from_reference(name, reference)
                        for name, reference in sorted(value.items())
                        if isinstance(reference, dict) and "uri" in reference
                    }
        return {}


def _server_version(api: AirflowApi) -> tuple[int, ...]:
    try:
        version = str(api.request("GET", "/api/v2/version")["version"])
    except ClientError:
        return (0,)
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(character for character in part if character.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _topological(downstream: dict[str, list[str]]) -> list[str]:
    upstream_count = dict.fromkeys(downstream, 0)
    for targets in downstream.values():
        for target in targets:
            upstream_count[target] = upstream_count.get(target, 0) + 1
    ready = sorted(task for task, count in upstream_count.items() if count == 0)
    ordered = []
    while ready:
        task = ready.pop(0)
        ordered.append(task)
        for target in sorted(downstream.get(task, [])):
            upstream_count[target] -= 1
            if upstream_count[target] == 0:
                ready.append(target)
    return ordered


def _step_names(task_ids: list[str]) -> list[str]:
    names: list[str] = []
    for task_id in task_ids:
        step, _, role = task_id.rpartition(".")
        if step and role in ("reuse", "run") and step not in names:
            names.append(step)
    return names
