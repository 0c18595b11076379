"""What the client hands back: steps of a run, their outputs; decided from API records, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_ml_provider.handoff import OutputReference, ProducedBy
from airflow_ml_provider.step_states import step_status

FINISHED_RUN_STATES = {"success", "failed"}


@dataclass(frozen=True)
class OutputData:
    """One output of a step in one run: where it is and what it holds (never the bytes)."""

    name: str
    uri: str
    digest: str
    size: int
    files: int
    produced_by: ProducedBy

    @classmethod
    def from_reference(cls, name: str, reference: dict[str, Any]) -> OutputData:
        published = OutputReference.from_json(reference)
        return cls(
            name, published.uri, published.digest, published.size, published.files, published.produced_by
        )

    def download(
        self, path: str | Path, *, storage_options: dict[str, Any] | None = None, overwrite: bool = False
    ) -> Path:
        """Copy the output into ``path/<output name>`` and check its digest; returns that path.

        Local datastores are copied directly; others through fsspec with
        ``storage_options`` (for S3, credentials come from the usual AWS settings when
        none are given).
        """
        from airflow_ml_provider.client.download import download_output

        return download_output(self, Path(path), storage_options or {}, overwrite=overwrite)


@dataclass
class StepRun:
    """One step of one pipeline run."""

    name: str
    status: str
    reuse_state: str | None
    run_state: str | None
    started: datetime | None = None
    ended: datetime | None = None
    attempts: int = 0
    explanation: str | None = None
    outputs: dict[str, OutputData] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from the first of its tasks starting to the last ending (so far)."""
        if self.started is None:
            return None
        end = self.ended or datetime.now(tz=self.started.tzinfo)
        return max(0.0, (end - self.started).total_seconds())

    def get_output_data(self, name: str) -> OutputData:
        """The output ``name`` of this step (Azure ML's ``StepRun.get_output_data``)."""
        if name not in self.outputs:
            known = ", ".join(sorted(self.outputs)) or "none in this run"
            raise KeyError(f'step "{self.name}" has no output "{name}" (outputs: {known})')
        return self.outputs[name]


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def steps_from_task_instances(task_instances: list[dict[str, Any]], order: list[str]) -> list[StepRun]:
    """Group ``<step>.reuse`` and ``<step>.run`` task instances into steps, in ``order``.

    Tasks that are not a step's (a plain Airflow task in the same DAG) are left out.
    """
    by_step: dict[str, dict[str, dict[str, Any]]] = {}
    for instance in task_instances:
        step, _, role = str(instance["task_id"]).rpartition(".")
        if step and role in ("reuse", "run") and instance.get("map_index", -1) == -1:
            by_step.setdefault(step, {})[role] = instance
    position = {name: index for index, name in enumerate(order)}
    steps = []
    for name in sorted(by_step, key=lambda step: (position.get(step, len(position)), step)):
        tasks = by_step[name]
        states = {role: tasks[role].get("state") if role in tasks else None for role in ("reuse", "run")}
        starts = [t for t in (parse_time(i.get("start_date")) for i in tasks.values()) if t]
        ends = [t for t in (parse_time(i.get("end_date")) for i in tasks.values()) if t]
        status = step_status(states["reuse"], states["run"])
        finished = status in ("ran", "reused", "failed", "upstream_failed", "skipped")
        steps.append(
            StepRun(
                name,
                status,
                states["reuse"],
                states["run"],
                started=min(starts) if starts else None,
                ended=max(ends) if ends and finished else None,
                attempts=int(tasks["run"].get("try_number") or 0) if "run" in tasks else 0,
            )
        )
    return steps
