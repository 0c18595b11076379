"""Azure ML SDK v1 names and arguments: what each becomes here (no Airflow run needed)."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from airflow.sdk import DAG

from airflow_ml_provider import v1
from airflow_ml_provider.pipeline.compat import AzureMLCompatibilityWarning
from airflow_ml_provider.pipeline.data import TabularFormat
from airflow_ml_provider.pipeline.datapath import DataPathInput, bind_run_parameters
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.rendered import pipeline_of


@pytest.fixture
def scripts(tmp_path: Path) -> str:
    (tmp_path / "step.py").write_text("print('hello')\n")
    (tmp_path / "requirements.txt").write_text("pandas\n")
    return str(tmp_path)


def compat_warnings(action) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    messages = [str(w.message) for w in caught if issubclass(w.category, AzureMLCompatibilityWarning)]
    return [result, messages]  # type: ignore[list-item]


def test_every_name_of_the_v1_namespace_imports() -> None:
    for name in v1.__all__:
        assert getattr(v1, name) is not None, name
    with pytest.raises(AttributeError, match=r"migrating-from-azure-ml-v1\.md"):
        v1.AutoMLStep  # noqa: B018


def test_pipeline_data_v1_arguments_are_accepted_each_with_its_reason() -> None:
    data, said = compat_warnings(
        lambda: v1.PipelineData(
            "model",
            datastore=v1.Datastore(v1.Workspace.from_config(), "lake"),
            output_name="model",
            output_mode="upload",
            output_path_on_compute="/tmp/model",
            output_overwrite=True,
        )
    )

    assert (data.name, data.datastore) == ("model", "lake")
    assert said == [
        "PipelineData: output_path_on_compute= is accepted for Azure ML SDK v1 compatibility and not used: "
        "the script gets the output's path in its arguments."
    ]


def test_data_reference_v1_arguments_and_path() -> None:
    ref, said = compat_warnings(
        lambda: v1.DataReference(
            datastore=v1.Workspace().get_default_datastore(),
            data_reference_name="raw",
            path_on_datastore="samples",
            path_on_compute="/mnt/raw",
            overwrite=True,
        )
    )

    assert (ref.datastore, ref.name, ref.path_on_datastore, ref.overwrite) == (
        "default",
        "raw",
        "samples",
        True,
    )
    assert len(said) == 1 and "path_on_compute" in said[0]
    sub = ref.path("20news.txt", data_reference_name="news")
    assert (sub.name, sub.path_on_datastore) == ("news", "samples/20news.txt")
    assert v1.Datastore.get(v1.Workspace(), "lake").path("x/y.csv").path_on_datastore == "x/y.csv"


def test_datapath_parameter_is_an_input_chosen_per_run(scripts: str) -> None:
    datapath = v1.DataPath(datastore=v1.Datastore(None, "default"), path_on_datastore="sample_datapath1")
    parameter = v1.PipelineParameter(name="input_datapath", default_value=datapath)
    bound = (parameter, v1.DataPathComputeBinding(mode="mount"))

    with DAG("datapath", schedule=None) as dag:
        step = v1.PythonScriptStep(
            "step.py", name="read", arguments=["--arg1", bound], inputs=[bound], source_directory=scripts
        )

    (data,) = step.inputs
    assert isinstance(data, DataPathInput)
    assert (data.name, data.datastore, data.path_on_datastore, data.mode) == (
        "input_datapath",
        "default",
        "sample_datapath1",
        "mount",
    )
    assert [t.kind for t in step.arguments] == ["literal", "data"]
    # A Param of type object in the trigger form and REST conf; not hashed as a parameter
    # (the input's content digest decides reuse).
    assert dag.params["input_datapath"] == {"datastore": "default", "path_on_datastore": "sample_datapath1"}
    assert step.parameters == {}
    assert pipeline_of(dag).steps["read"].inputs == [data]
    for value, expected in [
        ({"datastore": "lake", "path_on_datastore": "other"}, ("lake", "other")),
        ("sample_datapath2", ("default", "sample_datapath2")),
        (v1.DataPath("lake", "x"), ("lake", "x")),
    ]:
        run_data = bind_run_parameters(data, {"input_datapath": value})
        assert (run_data.datastore, run_data.path_on_datastore, run_data.name) == (
            *expected,
            "input_datapath",
        )
    with pytest.raises(PipelineDefinitionError, match="leaves the datastore"):
        bind_run_parameters(data, {"input_datapath": "../../etc"})
    with pytest.raises(PipelineDefinitionError, match='parameter "input_datapath" is 3, not a data path'):
        bind_run_parameters(data, {"input_datapath": 3})


def test_datasets_become_named_inputs(scripts: str) -> None:
    store = v1.Datastore(None, "samples")
    files = v1.Dataset.File.from_files(path=(store, "images/"))
    table = v1.Dataset.Tabular.from_delimited_files(path=[(store, "taxi/green.csv")], separator=";")
    web = v1.Dataset.File.from_files("https://example.org/data/iris.csv")

    step = v1.PythonScriptStep(
        "step.py",
        name="use",
        arguments=[
            "--images",
            files.as_named_input("images").as_mount(),
            "--taxi",
            table.as_named_input("taxi"),
        ],
        inputs=[web],
        source_directory=scripts,
    )

    by_name = {data.name: data for data in step.inputs}
    assert set(by_name) == {"iris_csv", "images", "taxi"}
    assert (by_name["images"].datastore, by_name["images"].path_on_datastore, by_name["images"].mode) == (
        "samples",
        "images",
        "mount",
    )
    assert by_name["taxi"].dataset == TabularFormat("delimited", ";", True)
    assert (by_name["iris_csv"].datastore, by_name["iris_csv"].path_on_datastore) == (
        "https://example.org/data",
        "iris.csv",
    )


def test_output_file_dataset_config_is_an_output_where_written_and_an_input_where_read(scripts: str) -> None:
    cleaned = v1.OutputFileDatasetConfig(name="cleaned", destination=(v1.Datastore(None, "lake"), None))
    merged = v1.OutputFileDatasetConfig("merged")

    clean = v1.PythonScriptStep(
        "step.py", name="clean", arguments=["--out", cleaned], source_directory=scripts
    )
    merge = v1.PythonScriptStep(
        "step.py",
        name="merge",
        arguments=["--in", cleaned.read_delimited_files(), "--out", merged],
        source_directory=scripts,
    )
    report = v1.PythonScriptStep(
        "step.py", name="report", arguments=["--in", merged.as_input("table")], source_directory=scripts
    )
    again = v1.PythonScriptStep("step.py", name="again", arguments=["--in", merged], source_directory=scripts)

    assert (clean.output_names, clean.input_names) == (["cleaned"], [])
    assert clean.outputs[0].datastore == "lake"
    assert (merge.input_names, merge.output_names) == (["cleaned"], ["merged"])
    assert merge.inputs[0].dataset == TabularFormat()
    assert (report.input_names, report.inputs[0].input_name) == (["merged"], "table")
    assert again.input_names == ["merged"]  # produced already: an input here
    assert v1.Pipeline(steps=[again, report]).steps == [clean, merge, again, report]


def test_destination_path_of_an_output_is_said_to_be_per_run() -> None:
    _, said = compat_warnings(
        lambda: v1.OutputFileDatasetConfig(
            name="out", destination=(v1.Datastore(None, "lake"), "fixed/{run-id}")
        )
    )

    assert (
        len(said) == 1
        and 'outputs are written per run on datastore "lake", not at "fixed/{run-id}"' in said[0]
    )


def test_placeholders_in_string_arguments(scripts: str) -> None:
    raw = v1.DataReference(datastore="default", path_on_datastore="raw", data_reference_name="raw_data")
    alpha = v1.PipelineParameter("alpha", default_value=0.5)

    step = v1.PythonScriptStep(
        "step.py",
        name="s",
        arguments=[f"--data={raw}/part-0", f"--alpha={alpha}", "--beta=$AML_PARAMETER_beta"],
        inputs=[raw],
        source_directory=scripts,
    )

    assert step.arguments[0].value == "--data=$AML_DATAREFERENCE_raw_data/part-0"
    assert sorted(step.parameters) == ["alpha", "beta"]  # their values are part of the fingerprint
    with pytest.raises(
        PipelineDefinitionError, match=r"\$AZUREML_DATAREFERENCE_other names no data of this step"
    ):
        v1.PythonScriptStep(
            "step.py", name="t", arguments=["--data=$AZUREML_DATAREFERENCE_other"], source_directory=scripts
        )


def test_run_configuration_gives_the_target_and_environment(scripts: str) -> None:
    runconfig = v1.RunConfiguration(
        conda_dependencies=v1.CondaDependencies.create(pip_packages=["azureml-defaults"])
    )
    runconfig.target = v1.AmlCompute(v1.Workspace(), "cpu-cluster")
    runconfig.environment.docker.base_image = "python:3.11-slim"
    runconfig.environment_variables = {"MODE": "fast"}

    step, said = compat_warnings(
        lambda: v1.PythonScriptStep(
            "step.py", name="s", runconfig=runconfig, hash_paths=["."], source_directory=scripts
        )
    )

    assert step.compute_target == "cpu-cluster"
    assert (step.environment.image, step.environment.variables) == ("python:3.11-slim", {"MODE": "fast"})
    assert len(said) == 1 and "hash_paths" in said[0]  # azureml-* packages need no word
    env = v1.Environment.from_pip_requirements("env", "requirements.txt")
    env.python.conda_dependencies = v1.CondaDependencies.create(conda_packages=["scikit-learn"])
    with_env, said = compat_warnings(
        lambda: v1.PythonScriptStep(
            "step.py",
            name="e",
            compute_target=("gpu", "AmlCompute"),
            environment=env,
            source_directory=scripts,
        )
    )
    assert (with_env.compute_target, with_env.environment.requirements) == ("gpu", "requirements.txt")
    assert len(said) == 1 and "packages (scikit-learn) are not installed by the step" in said[0]


def test_estimator_step_takes_the_estimator(scripts: str) -> None:
    data = v1.PipelineData("model")
    estimator = v1.Estimator(
        source_directory=scripts,
        entry_script="step.py",
        compute_target=v1.ComputeTarget(v1.Workspace(), "gpu"),
        script_params={"--regularization": 0.5},
        pip_requirements_file="requirements.txt",
    )

    step = v1.EstimatorStep(
        name="train",
        estimator=estimator,
        estimator_entry_script_arguments=["--out", data],
        outputs=[data],
    )

    assert (step.script_name, step.compute_target, step.environment.requirements) == (
        "step.py",
        "gpu",
        "requirements.txt",
    )
    assert [t.value for t in step.arguments] == ["--out", "model", "--regularization", "0.5"]


def test_schedule_recurrence_becomes_an_airflow_schedule(scripts: str) -> None:
    def schedule(**kwargs: object) -> object:
        return v1.ScheduleRecurrence(**kwargs).to_schedule()  # type: ignore[arg-type]

    assert schedule(frequency="Minute", interval=15) == timedelta(minutes=15)
    assert schedule(frequency="Day", interval=1, hours=[2], minutes=[30]) == "30 2 * * *"
    assert schedule(frequency="Week", interval=1, week_days=["Monday", "Friday"], time_of_day="6:15") == (
        "15 6 * * mon,fri"
    )
    with pytest.raises(PipelineDefinitionError, match="no cron equivalent"):
        schedule(frequency="Day", interval=2, hours=[1])
    recurrence = v1.ScheduleRecurrence(
        frequency="Hour", interval=4, start_time="2026-01-05T00:00:00", time_zone="Europe/Paris"
    )
    dag = v1.Pipeline(steps=[v1.PythonScriptStep("step.py", name="s", source_directory=scripts)]).to_dag(
        "scheduled", schedule=recurrence
    )
    assert dag.start_date == datetime(2026, 1, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert str(dag.timezone.name) == "Europe/Paris"


def test_data_transfer_step_v1_arguments(scripts: str) -> None:
    source = v1.DataReference(datastore="samples", path_on_datastore="exports", data_reference_name="exports")
    target = v1.DataReference(
        datastore="lake", path_on_datastore="copy", data_reference_name="copy", overwrite=True
    )

    step, said = compat_warnings(
        lambda: v1.DataTransferStep(
            name="copy",
            source_data_reference=source,
            destination_data_reference=target,
            compute_target=v1.DataFactoryCompute(v1.Workspace(), "adf"),
        )
    )

    assert (step.compute_target, step.source_reference_type, step.destination_is_directory) == (
        "local",
        None,
        None,
    )
    assert step.overwrite is True
    assert len(said) == 1 and "the copy runs on the Airflow worker" in said[0]
