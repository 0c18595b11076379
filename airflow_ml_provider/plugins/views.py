"""What the pipeline views show, assembled from plain values (no Airflow, no I/O here).

The routes read the serialized DAG (each step's description), the task instances and XCom
values of a run, and the step cache's decisions; these functions turn them into the JSON the
UI draws: steps with ports and status, the data edges between them, and run comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_ml_provider.caching.explain import differences
from airflow_ml_provider.handoff import MODEL_VERSION_KEY, OUTPUTS_KEY, RUN_ID_KEY, TRANSFER_STATS_KEY
from airflow_ml_provider.step_states import step_status


@dataclass
class TaskState:
    state: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    try_number: int = 0


@dataclass
class StepRecord:
    """One step of one run: its description, its two tasks, XCom values and the cache decision."""

    description: dict[str, Any]
    reuse: TaskState = field(default_factory=TaskState)
    run: TaskState = field(default_factory=TaskState)
    xcom: dict[str, Any] = field(default_factory=dict)  # key -> value, from either task
    decision: Any = None  # caching.store.Decision (the latest of this run)


def _seconds(tasks: list[TaskState]) -> float | None:
    starts = [t.start for t in tasks if t.start]
    ends = [t.end for t in tasks if t.end]
    if not starts or not ends:
        return None
    return round((max(ends) - min(starts)).total_seconds(), 3)


def data_edges(descriptions: list[dict[str, Any]], upstream: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Edges between steps, labelled with the data they carry; ``data`` None for ordering only.

    ``upstream`` maps each step to the steps its tasks wait for (from the DAG's dependencies).
    """
    producers = {output["name"]: step["name"] for step in descriptions for output in step["outputs"]}
    edges: list[dict[str, Any]] = []
    for step in descriptions:
        carried: dict[str, list[str]] = {}
        for data in step["inputs"]:
            producer = producers.get(data["name"])
            if producer is not None:
                carried.setdefault(producer, []).append(data["name"])
            elif data["kind"] == "reference":
                edges.append({"source": f"data:{data['name']}", "target": step["name"], "data": data["name"]})
        for producer, names in carried.items():
            edges += [{"source": producer, "target": step["name"], "data": name} for name in names]
        for before in sorted(upstream.get(step["name"], set()) - set(carried)):
            edges.append({"source": before, "target": step["name"], "data": None})
    return edges


def external_data(descriptions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data that exists before the pipeline (DataReference inputs), once each."""
    found: dict[str, dict[str, Any]] = {}
    for step in descriptions:
        for data in step["inputs"]:
            if data["kind"] == "reference":
                found.setdefault(data["name"], {**data, "id": f"data:{data['name']}"})
    return list(found.values())


def decision_view(decision: Any) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "decision": decision.decision,
        "message": decision.message,
        "fingerprint": decision.base_key,
        "at": decision.at,
    }


def step_view(record: StepRecord) -> dict[str, Any]:
    """A step of a run: description, status, duration, decision, outputs and tracking."""
    status = step_status(record.reuse.state, record.run.state)
    outputs = record.xcom.get(OUTPUTS_KEY) if isinstance(record.xcom.get(OUTPUTS_KEY), dict) else {}
    view = {
        **record.description,
        "status": status,
        "tasks": {
            role: {
                "state": task.state,
                "start": task.start.isoformat() if task.start else None,
                "end": task.end.isoformat() if task.end else None,
                "try_number": task.try_number,
            }
            for role, task in (("reuse", record.reuse), ("run", record.run))
        },
        "duration": _seconds([record.reuse, record.run]),
        "decision": decision_view(record.decision),
        "references": outputs,
        "mlflow_run_id": record.xcom.get(RUN_ID_KEY),
        "model_version": None
        if record.xcom.get(MODEL_VERSION_KEY) is None
        else str(record.xcom[MODEL_VERSION_KEY]),
        "transfer": record.xcom.get(TRANSFER_STATS_KEY),
    }
    return view


def run_view(records: list[StepRecord], upstream: dict[str, set[str]], run: dict[str, Any]) -> dict[str, Any]:
    descriptions = [record.description for record in records]
    return {
        "run": run,
        "steps": [step_view(record) for record in records],
        "data": external_data(descriptions),
        "edges": data_edges(descriptions, upstream),
    }


def compare_runs(
    base: dict[str, Any], other: dict[str, Any], pre_images: dict[str, tuple[Any, Any]]
) -> list[dict[str, Any]]:
    """Step by step, what differs between two run views and why (``pre_images``: step -> the
    recorded pre-images of its decision in each run, or None)."""
    others = {step["name"]: step for step in other["steps"]}
    rows = []
    for step in base["steps"]:
        name = step["name"]
        then = others.get(name)
        if then is None:
            rows.append({"step": name, "changed": True, "reasons": ["step not in the other run"]})
            continue
        fingerprints = (_fingerprint(step), _fingerprint(then))
        reasons: list[str] = []
        old_pre, new_pre = pre_images.get(name, (None, None))
        if fingerprints[0] and fingerprints[1] and fingerprints[0] != fingerprints[1]:
            reasons = differences(old_pre, new_pre) if old_pre and new_pre else ["fingerprint changed"]
        outputs_changed = sorted(
            output
            for output in set(step["references"]) | set(then["references"])
            if (step["references"].get(output) or {}).get("digest")
            != (then["references"].get(output) or {}).get("digest")
        )
        rows.append(
            {
                "step": name,
                "status": [step["status"], then["status"]],
                "fingerprint": list(fingerprints),
                "changed": bool(reasons) or bool(outputs_changed) or fingerprints[0] != fingerprints[1],
                "reasons": reasons,
                "outputs_changed": outputs_changed,
                "messages": [
                    (step["decision"] or {}).get("message"),
                    (then["decision"] or {}).get("message"),
                ],
            }
        )
    return rows


def _fingerprint(step: dict[str, Any]) -> str | None:
    decision = step.get("decision") or {}
    return decision.get("fingerprint")
