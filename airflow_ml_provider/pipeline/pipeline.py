"""``Pipeline(steps=...)`` and ``StepSequence``: Azure ML v1's way of putting steps together.

Steps may be built first and given to a pipeline afterwards, and the same step objects
may be in two pipelines. A pipeline becomes an Airflow DAG with ``to_dag(dag_id, ...)``
(or at once with ``Pipeline(..., dag_id=...)``); the steps it holds stay untouched, each
DAG runs its own copy of them. Nothing here imports Airflow until a DAG is made.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from airflow_ml_provider.pipeline.compat import ignored_keywords
from airflow_ml_provider.pipeline.data import PipelineData
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.graph import PipelineGraph
from airflow_ml_provider.pipeline.placement import renderer
from airflow_ml_provider.pipeline.steps import Step

_EXPERIMENT_MODULE = "airflow_ml_provider.v1.experiment"


class StepSequence:
    """Steps that run one after another, with or without data between them.

    An element may itself be a list of steps: those run side by side, after everything
    before them and before everything after them.
    """

    def __init__(self, steps: Sequence[Step | Sequence[Step]] | None = None) -> None:
        self.groups: list[list[Step]] = []
        for index, element in enumerate(steps or []):
            group = [element] if isinstance(element, Step) else list(element)
            for item in group:
                if not isinstance(item, Step):
                    raise PipelineDefinitionError(
                        f"steps[{index}] holds a {type(item).__name__}, not a step.",
                        fix="Give steps, or lists of steps that run side by side.",
                        argument=f"steps[{index}]",
                    )
            self.groups.append(group)

    @property
    def steps(self) -> list[Step]:
        return [step for group in self.groups for step in group]

    def orderings(self) -> list[tuple[Step, Step]]:
        """(before, after) for every step and every step of the group after its own."""
        return [
            (before, after)
            for earlier, later in zip(self.groups, self.groups[1:], strict=False)
            for before in earlier
            for after in later
        ]


StepsArgument = Step | StepSequence | Sequence[Any]


class Pipeline:
    """A collection of steps that runs as one Airflow DAG.

    - ``steps``: steps, lists of steps, or a ``StepSequence``; with ``resolve_closure``
      (the default) the steps that produce their inputs, and the steps they were ordered
      after, are in the pipeline too, as in Azure ML;
    - ``default_datastore``: where PipelineData that name no datastore are written;
    - ``dag_id`` (with ``schedule``, ``params`` and any other DAG argument): make the DAG
      now, as ``pipeline.dag``; else call ``to_dag(dag_id, ...)``;
    - ``azureml_compat``: step scripts may ``import azureml.core`` (``Run.get_context()``...),
      served by the provider's compatibility layer unless a real ``azureml`` is installed.

    ``workspace`` is the Airflow deployment the DAG file is in, so it needs no value here.
    """

    def __init__(
        self,
        workspace: Any = None,
        steps: StepsArgument | None = None,
        description: str | None = None,
        default_datastore: Any = None,
        default_source_directory: str | None = None,
        resolve_closure: bool = True,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
        *,
        dag_id: str | None = None,
        azureml_compat: bool = False,
        **dag_arguments: Any,
    ) -> None:
        ignored_keywords(
            "Pipeline",
            {"default_source_directory": default_source_directory},
            {
                "default_source_directory": "each step's source_directory (relative to the DAG file) "
                "says where its script is; give it on the steps."
            },
        )
        self.workspace = workspace
        self.description = description
        self.default_datastore = _datastore_name(default_datastore)
        self.resolve_closure = bool(resolve_closure)
        self.azureml_compat = bool(azureml_compat)
        self.listed, self.orderings = _flatten(steps)
        self.steps = _closure(self.listed, self.orderings, resolve=self.resolve_closure)
        self.dag: Any = None
        if dag_id is not None:
            self.dag = self.to_dag(dag_id, **dag_arguments)
        elif dag_arguments:
            raise PipelineDefinitionError(
                f"DAG arguments ({', '.join(sorted(dag_arguments))}) were given without dag_id.",
                fix="Give dag_id= too, or pass them to pipeline.to_dag(dag_id, ...).",
                argument=sorted(dag_arguments)[0],
            )

    @property
    def graph(self) -> PipelineGraph:
        """The steps and the edges their data and orderings imply (raises on two producers or a cycle)."""
        graph = PipelineGraph()
        for step in self.steps:
            graph.add(step)
        for before, after in self._all_orderings():
            graph.add_order(before.name, after.name)
        return graph

    def validate(self) -> list[str]:
        """What would stop this pipeline, in words (an empty list when nothing would)."""
        try:
            return [str(problem) for problem in self.graph.problems()]
        except PipelineDefinitionError as error:
            return [str(error)]

    def to_dag(self, dag_id: str | None = None, *, dag: Any = None, **dag_arguments: Any) -> Any:
        """The Airflow DAG of this pipeline: a new one (registered for the DAG processor like
        a ``with DAG(...)`` block) or, with ``dag=``, the steps added to an existing one."""
        return renderer().to_dag(self, dag_id, dag, dag_arguments)

    def submit(
        self,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        continue_on_step_failure: bool = False,
        regenerate_outputs: bool = False,
        **options: Any,
    ) -> Any:
        """Azure ML v1's ``pipeline.submit``: ``Experiment(None, experiment_name).submit(self, ...)``."""
        # Azure ML v1's Experiment sits above the model: loaded by name, like the renderer.
        experiment = importlib.import_module(_EXPERIMENT_MODULE).Experiment
        return experiment(self.workspace, experiment_name).submit(
            self,
            pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs,
        )

    def publish(self, name: str | None = None, description: str | None = None, **options: Any) -> Any:
        """Nothing to publish: a DAG is served by Airflow's REST API already."""
        dag_id = self.dag.dag_id if self.dag is not None else "<dag_id>"
        raise PipelineDefinitionError(
            "a pipeline is not published here: its DAG is served by Airflow's REST API.",
            fix=f'Trigger it with POST /api/v2/dags/{dag_id}/dagRuns and {{"logical_date": null, "conf": '
            "{...parameters}} (Airflow's authentication), or airflow-ml publish for versioned endpoints.",
            argument="publish",
        )

    def _all_orderings(self) -> list[tuple[Step, Step]]:
        members = {id(step) for step in self.steps}
        recorded = [(before, step) for step in self.steps for before in step.run_after_steps]
        return [(a, b) for a, b in [*self.orderings, *recorded] if id(a) in members and id(b) in members]

    def __repr__(self) -> str:
        return f"Pipeline(steps={[step.name for step in self.steps]!r})"


def _datastore_name(datastore: Any) -> str | None:
    if datastore is None or isinstance(datastore, str):
        return datastore
    return str(datastore.name)


def _flatten(steps: StepsArgument | None) -> tuple[list[Step], list[tuple[Step, Step]]]:
    """The steps given, in order, and the orderings their StepSequences imply."""
    found: list[Step] = []
    orderings: list[tuple[Step, Step]] = []

    def visit(item: Any, where: str) -> None:
        if isinstance(item, Step):
            found.append(item)
        elif isinstance(item, StepSequence):
            orderings.extend(item.orderings())
            found.extend(item.steps)
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes):
            for index, element in enumerate(item):
                visit(element, f"{where}[{index}]")
        else:
            raise PipelineDefinitionError(
                f"{where} is a {type(item).__name__}, not a step.",
                fix="Give steps, lists of steps or a StepSequence.",
                argument=where,
            )

    visit(steps or [], "steps")
    return found, orderings


def _closure(listed: list[Step], orderings: list[tuple[Step, Step]], *, resolve: bool) -> list[Step]:
    """The pipeline's steps, upstream first: those listed and (``resolve``) what they need."""
    before_of: dict[int, list[Step]] = {}
    for before, after in orderings:
        before_of.setdefault(id(after), []).append(before)
    ordered: list[Step] = []
    done: set[int] = set()
    visiting: set[int] = set()

    def upstream(step: Step) -> list[Step]:
        found = list(before_of.get(id(step), []))
        if resolve:
            for data in step.inputs:
                if isinstance(data, PipelineData):
                    found.extend(data.producers.steps())
            found.extend(step.run_after_steps)
        return found

    def visit(step: Step) -> None:
        if id(step) in done or id(step) in visiting:
            return  # a cycle is reported by the graph, with the step named
        visiting.add(id(step))
        for before in upstream(step):
            visit(before)
        visiting.discard(id(step))
        done.add(id(step))
        ordered.append(step)

    for step in listed:
        visit(step)
    return ordered
