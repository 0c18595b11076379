"""``Pipeline(steps=...)``: steps built first, put into one or more pipelines, each a DAG."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import DAG

from airflow_ml_provider import (
    DataReference,
    Pipeline,
    PipelineData,
    PipelineDefinitionError,
    PythonScriptStep,
    StepSequence,
)
from airflow_ml_provider.pipeline.compat import AzureMLCompatibilityWarning
from airflow_ml_provider.rendered import pipeline_of


@pytest.fixture
def scripts(tmp_path: Path) -> str:
    (tmp_path / "step.py").write_text("print('hello')\n")
    return str(tmp_path)


def step(name: str, scripts: str, **kwargs: object) -> PythonScriptStep:
    return PythonScriptStep("step.py", name=name, source_directory=scripts, **kwargs)  # type: ignore[arg-type]


def upstream(dag: DAG, step_name: str) -> set[str]:
    return set(dag.task_dict[f"{step_name}.reuse"].upstream_task_ids)


def chain(scripts: str) -> tuple[PythonScriptStep, PythonScriptStep, PythonScriptStep]:
    """train -> extract -> compare, as in Azure ML's data dependency sample."""
    raw = DataReference(path_on_datastore="samples/20news.txt", data_reference_name="raw")
    d1, d2, d3 = PipelineData("d1"), PipelineData("d2"), PipelineData("d3")
    train = step("train", scripts, arguments=["--in", raw, "--out", d1], outputs=[d1])
    extract = step("extract", scripts, inputs=[d1.as_download()], outputs=[d2])
    compare = step("compare", scripts, inputs=[d1, d2], outputs=[d3])
    return train, extract, compare


def test_the_last_step_brings_the_steps_that_produce_its_inputs(scripts: str) -> None:
    train, extract, compare = chain(scripts)

    pipeline = Pipeline(steps=[compare])
    dag = pipeline.to_dag("closure")

    assert pipeline.steps == [train, extract, compare]
    assert [s.name for s in pipeline_of(dag).steps.values()] == ["train", "extract", "compare"]
    assert upstream(dag, "extract") == {"train.run"}
    assert upstream(dag, "compare") == {"train.run", "extract.run"}
    assert pipeline.validate() == []


def test_without_closure_only_the_listed_steps_are_in_and_validate_says_what_is_missing(
    scripts: str,
) -> None:
    _, _, compare = chain(scripts)

    pipeline = Pipeline(steps=[compare], resolve_closure=False)

    assert pipeline.steps == [compare]
    problems = pipeline.validate()
    assert len(problems) == 2
    assert 'step "compare", argument "inputs": PipelineData "d1" is an input, but no step' in problems[0]


def test_the_same_steps_in_two_pipelines_each_with_its_own_tasks_and_defaults(scripts: str) -> None:
    train, extract, compare = chain(scripts)

    nightly = Pipeline(steps=[compare]).to_dag("nightly", default_args={"tracking": "optional"})
    adhoc = Pipeline(steps=[train, extract]).to_dag("adhoc")

    assert sorted(nightly.task_ids) == sorted(
        f"{s}.{t}" for s in ("train", "extract", "compare") for t in ("reuse", "run")
    )
    assert sorted(adhoc.task_ids) == ["extract.reuse", "extract.run", "train.reuse", "train.run"]
    nightly_train, adhoc_train = pipeline_of(nightly).steps["train"], pipeline_of(adhoc).steps["train"]
    assert (nightly_train.tracking, nightly_train.experiment_name) == ("optional", "nightly")  # type: ignore[attr-defined]
    assert (adhoc_train.tracking, adhoc_train.experiment_name) == ("required", "adhoc")  # type: ignore[attr-defined]
    assert nightly.get_task("train.run").step is nightly_train  # type: ignore[attr-defined]
    assert adhoc.get_task("train.run").step is adhoc_train  # type: ignore[attr-defined]
    # The step objects the user built are left as they were.
    assert (train.tracking, train.experiment_name) == (None, None)
    assert pipeline_of(nightly).origins["train"] is train and pipeline_of(adhoc).origins["train"] is train


def test_step_sequence_orders_steps_that_share_no_data(scripts: str) -> None:
    first, second, third, last = (step(name, scripts) for name in ("first", "second", "third", "last"))

    dag = Pipeline(steps=StepSequence(steps=[first, [second, third], last])).to_dag("sequence")

    assert upstream(dag, "first") == set()
    assert upstream(dag, "second") == upstream(dag, "third") == {"first.run"}
    assert upstream(dag, "last") == {"second.run", "third.run"}
    # The sequence belongs to the pipeline: the steps keep no ordering from it.
    assert [s.run_after_steps for s in (first, second, third, last)] == [[], [], [], []]


def test_run_after_before_the_pipeline_exists_and_the_earlier_step_joins_the_pipeline(scripts: str) -> None:
    hello, compare, extract = step("hello", scripts), step("compare", scripts), step("extract", scripts)

    extract.run_after(compare)
    compare.run_after(hello)
    dag = Pipeline(steps=[extract]).to_dag("run_after")

    assert sorted(pipeline_of(dag).steps) == ["compare", "extract", "hello"]
    assert upstream(dag, "compare") == {"hello.run"}
    assert upstream(dag, "extract") == {"compare.run"}


def test_default_datastore_places_the_pipelines_own_data_only(scripts: str) -> None:
    kept = PipelineData("kept", datastore="lake")
    moved = PipelineData("moved")
    producer = step("producer", scripts, outputs=[kept, moved])

    dag = Pipeline(steps=[producer], default_datastore="scratch").to_dag("stores")

    placed = pipeline_of(dag).steps["producer"]
    assert [(d.name, d.datastore) for d in placed.outputs] == [("kept", "lake"), ("moved", "scratch")]
    assert [(d.name, d.datastore) for d in producer.outputs] == [("kept", "lake"), ("moved", None)]


def test_dag_arguments_and_description(scripts: str) -> None:
    pipeline = Pipeline(
        steps=[step("only", scripts)], description="says hello", dag_id="described", tags=["v1"]
    )

    assert pipeline.dag.dag_id == "described"
    assert pipeline.dag.description == "says hello"
    assert pipeline.dag.tags == {"v1"}
    assert pipeline.dag.schedule is None or str(pipeline.dag.timetable.summary) == "None"


def test_two_producers_and_cycles_are_reported_by_validate(scripts: str) -> None:
    shared = PipelineData("shared")
    pipeline = Pipeline(steps=[step("a", scripts, outputs=[shared]), step("b", scripts, outputs=[shared])])

    (problem,) = pipeline.validate()
    assert 'step "b", argument "outputs": PipelineData "shared" is already produced by step "a"' in problem


def test_what_is_not_a_step_is_refused(scripts: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=r'argument "steps\[1\]": steps\[1\] is a str'):
        Pipeline(steps=[step("a", scripts), "b.py"])
    with pytest.raises(PipelineDefinitionError, match="without dag_id"):
        Pipeline(steps=[step("c", scripts)], schedule="@daily")
    with pytest.raises(PipelineDefinitionError, match="the pipeline has no dag_id"):
        Pipeline(steps=[step("d", scripts)]).to_dag()


def test_default_source_directory_is_accepted_with_a_warning(scripts: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Pipeline(steps=[step("a", scripts)], default_source_directory="scripts")

    (warning,) = [w for w in caught if issubclass(w.category, AzureMLCompatibilityWarning)]
    assert "Pipeline: default_source_directory= is accepted for Azure ML SDK v1 compatibility" in str(
        warning.message
    )


def test_the_dag_processor_finds_pipelines_made_in_a_dag_file(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "step.py").write_text("print('hello')\n")
    (folder / ".airflowignore").write_text("scripts/\n")
    (folder / "two_pipelines.py").write_text(
        textwrap.dedent(
            """\
            from airflow_ml_provider import Pipeline, PipelineData, PythonScriptStep

            data = PipelineData("data")
            make = PythonScriptStep("step.py", name="make", outputs=[data], source_directory="scripts")
            use = PythonScriptStep("step.py", name="use", inputs=[data], source_directory="scripts")

            Pipeline(steps=[use], dag_id="whole")
            only_make = Pipeline(steps=[make]).to_dag("only_make")
            """
        )
    )

    bag = DagBag(dag_folder=str(folder), safe_mode=True)

    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["only_make", "whole"]
    assert sorted(bag.dags["whole"].task_ids) == ["make.reuse", "make.run", "use.reuse", "use.run"]
