"""The steps of one pipeline and the order their data implies."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_ml_provider.pipeline.data import PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.steps import Step


@dataclass
class PipelineGraph:
    """Steps by name, who produces each PipelineData, and the edges between steps.

    Steps may be added in any order; each ``add`` returns the new (producer, consumer)
    edges so the caller can wire them, and refuses a step that would make the pipeline
    ambiguous (two producers) or circular.
    """

    dag_id: str | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def add(self, step: Step) -> list[tuple[str, str]]:
        if step.name in self.steps:
            raise self._error(
                step.name, "name", "another step already has this name.", "Give each step its own name."
            )
        for output in step.outputs:
            if output.name in self.producers:
                raise self._error(
                    step.name,
                    "outputs",
                    f'PipelineData "{output.name}" is already produced by step '
                    f'"{self.producers[output.name]}"; an output must have exactly one producer.',
                    "Give each step's output its own PipelineData.",
                )
        new_edges = [
            (self.producers[data.name], step.name)
            for data in step.inputs
            if isinstance(data, PipelineData) and data.name in self.producers
        ]
        for output in step.outputs:
            new_edges += [(step.name, consumer) for consumer in self.consumers.get(output.name, [])]
        self._refuse_cycle(step.name, new_edges)
        self.steps[step.name] = step
        for output in step.outputs:
            self.producers[output.name] = step.name
        for data in step.inputs:
            if isinstance(data, PipelineData):
                self.consumers.setdefault(data.name, []).append(step.name)
        self.edges.update(new_edges)
        return new_edges

    def add_order(self, before: str, after: str) -> None:
        """An ordering edge with no data (``>>`` / ``run_after``)."""
        edges = self.edges | {(before, after)}
        if _reaches(edges, {after}, before):
            raise self._error(
                after,
                "run_after",
                f'ordering it after "{before}" makes a cycle: "{before}" already runs after it.',
                "Remove one of the >> / run_after() orderings.",
            )
        self.edges.add((before, after))

    def producer_of(self, data_name: str) -> str | None:
        return self.producers.get(data_name)

    def upstream_of(self, step_name: str) -> list[str]:
        return sorted(before for before, after in self.edges if after == step_name)

    def parameters(self) -> dict[str, PipelineParameter]:
        found: dict[str, PipelineParameter] = {}
        for step in self.steps.values():
            found.update(step.parameters)
        return found

    def problems(self) -> list[PipelineDefinitionError]:
        """What can only be judged once every step is in: inputs nobody produces."""
        found = []
        for data_name, consumers in sorted(self.consumers.items()):
            if data_name not in self.producers:
                for consumer in consumers:
                    found.append(
                        self._error(
                            consumer,
                            "inputs",
                            f'PipelineData "{data_name}" is an input, but no step in this '
                            "pipeline produces it.",
                            "Add it to outputs= of the step that writes it, or use a "
                            "DataReference for data that exists before the pipeline runs.",
                        )
                    )
        return found

    def _refuse_cycle(self, step_name: str, new_edges: list[tuple[str, str]]) -> None:
        # The graph had no cycle, so a new one passes through the new step: into it and out of
        # it. A step added in data order has no edge out yet, and the walk is skipped.
        into = any(after == step_name for _, after in new_edges)
        out_of = any(before == step_name for before, _ in new_edges)
        if not (into and out_of):
            return
        edges = self.edges | set(new_edges)
        if any(_reaches(edges, {after}, before) for before, after in new_edges):
            raise self._cycle_error(step_name)

    def _cycle_error(self, step_name: str) -> PipelineDefinitionError:
        return self._error(
            step_name,
            "inputs",
            "its data makes a cycle: it needs, directly or through other steps, data that "
            "it produces itself.",
            "Break the cycle by writing new PipelineData instead of reading an output back.",
        )

    def _error(self, step: str, argument: str, problem: str, fix: str) -> PipelineDefinitionError:
        return PipelineDefinitionError(problem, fix=fix, dag_id=self.dag_id, step=step, argument=argument)


def _successors(edges: set[tuple[str, str]], node: str) -> set[str]:
    return {after for before, after in edges if before == node}


def _reaches(edges: set[tuple[str, str]], starts: set[str], target: str) -> bool:
    seen: set[str] = set()
    frontier = list(starts)
    while frontier:
        node = frontier.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            frontier.extend(_successors(edges, node))
    return False
