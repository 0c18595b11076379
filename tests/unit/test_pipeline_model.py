"""The authoring model: steps wired by their data, ordering, arguments, and the tasks they render to."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk import DAG, TaskGroup

from airflow_ml_provider import (
    DataReference,
    Pipeline,
    PipelineData,
    PipelineDefinitionError,
    PipelineParameter,
    PythonScriptStep,
)
from airflow_ml_provider.pipeline.arguments import ArgumentToken
from airflow_ml_provider.rendered import pipeline_of


@pytest.fixture
def scripts(tmp_path: Path) -> str:
    for name in ("step.py", "train.py", "extract.py", "compare.py"):
        (tmp_path / name).write_text("print('hello')\n")
    return str(tmp_path)


def step(name: str, scripts: str, **kwargs: object) -> PythonScriptStep:
    return PythonScriptStep("step.py", name=name, source_directory=scripts, **kwargs)  # type: ignore[arg-type]


def upstream(dag: DAG, step_name: str) -> set[str]:
    """What a step waits for: the upstream tasks of its first task, the reuse sensor."""
    return set(dag.task_dict[f"{step_name}.reuse"].upstream_task_ids)


# data wiring ------------------------------------------------------------------------------------


def test_data_wires_consumer_after_producer(scripts: str) -> None:
    data = PipelineData("data")
    with DAG("x", schedule=None) as dag:
        step("producer", scripts, outputs=[data])
        step("consumer", scripts, inputs=[data])
        step("other", scripts)

    assert upstream(dag, "consumer") == {"producer.run"}
    assert upstream(dag, "producer") == set()
    assert upstream(dag, "other") == set()
    assert pipeline_of(dag).edges == {("producer", "consumer")}


def test_data_wires_consumer_defined_before_its_producer(scripts: str) -> None:
    data = PipelineData("data")
    with DAG("x", schedule=None) as dag:
        step("consumer", scripts, inputs=[data])
        step("producer", scripts, outputs=[data])

    assert upstream(dag, "consumer") == {"producer.run"}
    assert upstream(dag, "producer") == set()
    assert pipeline_of(dag).problems() == []


def test_data_dependency_chain_like_the_azure_sample(scripts: str) -> None:
    raw = DataReference(
        datastore="default", path_on_datastore="samples/20news.txt", data_reference_name="raw"
    )
    d1, d2, d3 = PipelineData("d1"), PipelineData("d2"), PipelineData("d3")
    with DAG("x", schedule=None) as dag:
        compare = PythonScriptStep(
            script_name="compare.py",
            arguments=["--a", d1, "--b", d2, "--out", d3],
            inputs=[d1, d2],
            outputs=[d3],
            source_directory=scripts,
        )
        PythonScriptStep(script_name="extract.py", inputs=[d1], outputs=[d2], source_directory=scripts)
        PythonScriptStep(
            script_name="train.py",
            arguments=["--in", raw, "--out", d1],
            inputs=[raw],
            outputs=[d1],
            source_directory=scripts,
        )

    assert upstream(dag, "train") == set()
    assert upstream(dag, "extract") == {"train.run"}
    assert upstream(dag, "compare") == {"train.run", "extract.run"}
    assert pipeline_of(dag).upstream_of("compare") == ["extract", "train"]
    assert compare.arguments[1] == ArgumentToken("data", "d1")


def test_data_reference_inputs_add_no_ordering(scripts: str) -> None:
    raw = DataReference(path_on_datastore="raw/data.csv")
    with DAG("x", schedule=None) as dag:
        step("first", scripts, inputs=[raw])
        step("second", scripts, inputs=[raw])

    assert upstream(dag, "first") == set()
    assert upstream(dag, "second") == set()


# ordering without data --------------------------------------------------------------------------


def test_rshift_orders_steps_without_data(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        first = step("first", scripts)
        second = step("second", scripts)
        returned = first >> second

    assert returned is second
    assert upstream(dag, "second") == {"first.run"}
    assert upstream(dag, "first") == set()
    assert second.inputs == []
    assert pipeline_of(dag).edges == {("first", "second")}


def test_rshift_with_lists_of_steps(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        a, b, c, d = (step(name, scripts) for name in ("a", "b", "c", "d"))
        a >> [b, c]
        [b, c] >> d

    assert upstream(dag, "b") == {"a.run"}
    assert upstream(dag, "c") == {"a.run"}
    assert upstream(dag, "d") == {"b.run", "c.run"}


def test_lshift_orders_the_other_way(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        first = step("first", scripts)
        second = step("second", scripts)
        second << first

    assert upstream(dag, "second") == {"first.run"}
    assert upstream(dag, "first") == set()


def test_run_after_orders_steps_without_data(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        first = step("first", scripts)
        second = step("second", scripts)
        third = step("third", scripts)
        returned = third.run_after(first, second)

    assert returned is third
    assert upstream(dag, "third") == {"first.run", "second.run"}
    assert third.inputs == []
    assert pipeline_of(dag).edges == {("first", "third"), ("second", "third")}


def test_ordering_steps_outside_a_dag_is_kept_for_the_pipeline_they_join(scripts: str) -> None:
    first = step("first", scripts)
    second = step("second", scripts)

    first >> second
    with DAG("x", schedule=None) as dag:
        Pipeline(steps=[first, second]).to_dag(dag=dag)

    assert second.run_after_steps == [first]
    assert upstream(dag, "second") == {"first.run"}
    assert pipeline_of(dag).edges == {("first", "second")}


def test_ordering_steps_of_two_pipelines_is_refused(scripts: str) -> None:
    # Both DAGs stay referenced, as a DAG file's parse keeps them: a step's placements are weak,
    # and unreferenced DAGs could be collected before the `>>`, whenever the collector runs.
    with DAG("one", schedule=None) as one:
        first = step("first", scripts)
    with DAG("two", schedule=None) as two:
        second = step("second", scripts)

    with pytest.raises(PipelineDefinitionError, match="they are in different pipelines"):
        first >> second
    assert {one.dag_id, two.dag_id} == {"one", "two"}


# arguments and params ---------------------------------------------------------------------------


def test_data_reference_only_in_arguments_is_adopted_as_input(scripts: str) -> None:
    raw = DataReference(path_on_datastore="raw/data.csv", data_reference_name="raw")
    with DAG("x", schedule=None):
        s = step("s", scripts, arguments=["--data", raw])

    assert s.inputs == [raw]
    assert s.input_names == ["raw"]
    assert s.arguments == [ArgumentToken("literal", "--data"), ArgumentToken("data", "raw")]


def test_declared_data_reference_in_arguments_is_not_added_twice(scripts: str) -> None:
    raw = DataReference(path_on_datastore="raw/data.csv", data_reference_name="raw")
    with DAG("x", schedule=None):
        s = step("s", scripts, arguments=["--data", raw], inputs=[raw])

    assert s.input_names == ["raw"]


def test_pipeline_parameter_in_arguments_becomes_a_parameter_token(scripts: str) -> None:
    alpha = PipelineParameter("alpha", default_value=0.5)
    with DAG("x", schedule=None):
        s = step("s", scripts, arguments=["--alpha", alpha, 3, 1.5, True, Path("a/b")])

    assert s.arguments == [
        ArgumentToken("literal", "--alpha"),
        ArgumentToken("parameter", "alpha"),
        ArgumentToken("literal", "3"),
        ArgumentToken("literal", "1.5"),
        ArgumentToken("literal", "True"),
        ArgumentToken("literal", str(Path("a/b"))),
    ]
    assert s.parameters == {"alpha": alpha}


def test_params_are_accepted(scripts: str) -> None:
    beta = PipelineParameter("beta", default_value="b")
    with DAG("x", schedule=None) as dag:
        s = step("s", scripts, params={"k": 1, "b": beta})

    assert s.params == {"k": ArgumentToken("literal", "1"), "b": ArgumentToken("parameter", "beta")}
    assert s.parameters == {"beta": beta}
    assert dag.params["beta"] == "b"


def test_azure_ml_style_argument_names(scripts: str) -> None:
    raw = DataReference(datastore="default", path_on_datastore="raw/data.csv", data_reference_name="raw_data")
    out = PipelineData("out", datastore="default")
    with DAG("x", schedule=None):
        s = PythonScriptStep(
            script_name="train.py",
            arguments=["--in", raw, "--out", out],
            inputs=[raw],
            outputs=[out],
            compute_target="gpu-cluster",
            source_directory=scripts,
            allow_reuse=False,
        )

    assert (raw.name, raw.datastore, raw.path_on_datastore) == ("raw_data", "default", "raw/data.csv")
    assert s.name == "train"
    assert s.script_name == "train.py"
    assert s.source_directory == Path(scripts).resolve()
    assert s.compute_target == "gpu-cluster"
    assert s.allow_reuse is False
    assert (s.input_names, s.output_names) == (["raw_data"], ["out"])


def test_compute_target_and_allow_reuse_defaults(scripts: str) -> None:
    s = step("s", scripts)

    assert s.compute_target == "local"
    assert s.allow_reuse is True


def test_relative_source_directory_under_base_directory(tmp_path: Path) -> None:
    (tmp_path / "scripts" / "sub").mkdir(parents=True)
    (tmp_path / "scripts" / "sub" / "prep.py").write_text("print('hello')\n")

    s = PythonScriptStep("sub/prep.py", source_directory="scripts", base_directory=tmp_path)

    assert s.source_directory == (tmp_path / "scripts").resolve()
    assert s.script_name == "sub/prep.py"
    assert s.name == "prep"


def test_name_defaults_to_script_stem(scripts: str) -> None:
    with DAG("x", schedule=None) as dag:
        s = PythonScriptStep("train.py", source_directory=scripts)

    assert s.name == "train"
    assert "train.run" in dag.task_dict


def test_data_reference_name_defaults_from_path() -> None:
    assert DataReference(path_on_datastore="samples/20news.txt").name == "20news_txt"
    assert DataReference(path_on_datastore="./raw//data.csv").path_on_datastore == "raw/data.csv"


# modes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["download", "mount", "direct"])
def test_as_mode_sets_the_mode(method: str) -> None:
    ref = DataReference(path_on_datastore="raw/data.csv", data_reference_name="raw")
    data = PipelineData("data")

    moded_ref = getattr(ref, f"as_{method}")()
    moded_data = getattr(data, f"as_{method}")()

    assert (moded_ref.mode, moded_data.mode) == (method, method)
    assert (moded_ref.name, moded_ref.path_on_datastore) == ("raw", "raw/data.csv")
    assert moded_data.name == "data"
    assert (ref.mode, data.mode) == (None, None)


def test_unknown_mode_is_refused_where_the_data_is_used(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("")
    bad = PipelineData("data", mode="copy")  # type: ignore[arg-type]
    with pytest.raises(PipelineDefinitionError) as info, DAG("modes", schedule=None):
        PythonScriptStep("s.py", name="s", inputs=[bad], source_directory=str(tmp_path))

    assert (info.value.dag_id, info.value.step, info.value.argument) == ("modes", "s", "inputs[0].mode")
    assert "'copy'" in str(info.value)


# task layout ------------------------------------------------------------------------------------


def test_each_step_is_a_task_group_with_a_reuse_sensor_then_a_run_task(scripts: str) -> None:
    data = PipelineData("data")
    with DAG("x", schedule=None) as dag:
        producer = step("producer", scripts, outputs=[data])
        consumer = step("consumer", scripts, inputs=[data])

    assert set(dag.task_group.children) == {"producer", "consumer"}
    assert sorted(dag.task_ids) == ["consumer.reuse", "consumer.run", "producer.reuse", "producer.run"]
    rendered = pipeline_of(dag)
    assert rendered.dag_id == "x"
    for s in (producer, consumer):
        group = dag.task_group.children[s.name]
        assert isinstance(group, TaskGroup)
        assert group is rendered.tasks[s.name].group
        assert group.group_id == s.name
        assert set(group.children) == {f"{s.name}.reuse", f"{s.name}.run"}
        assert rendered.task_ids(s.name) == {"reuse": f"{s.name}.reuse", "run": f"{s.name}.run"}
        assert rendered.origins[s.name] is s
        # The step the user built keeps no task of any DAG; the DAG runs its own copy.
        assert not hasattr(s, "task_ids") and not hasattr(s, "task_group")
        sensor, run = dag.task_dict[f"{s.name}.reuse"], dag.task_dict[f"{s.name}.run"]
        # A reused (skipped) upstream run task must not skip this step's sensor.
        assert sensor.trigger_rule == "none_failed"
        # It decides at once or defers to the triggerer (a lease wait): it never reschedules.
        assert sensor.mode == "poke"
        assert hasattr(sensor, "resume_after_lease")
        assert set(run.upstream_task_ids) == {f"{s.name}.reuse"}
        assert sensor.task_group is group and run.task_group is group


def test_step_outside_a_dag_renders_nothing(scripts: str) -> None:
    s = step("s", scripts)

    assert s.tracking is None and s.experiment_name is None
    assert not hasattr(s, "task_group")
