"""What every step kind gives: its fingerprint's pre-image and its description, pinned.

The expected values were computed before the step kinds had one interface: a change to any
of them re-runs every user's cached steps (or changes a published pipeline's digest), so it
must be deliberate (and say so), never a side effect. The environment part of a script
step is pinned per compute kind in test_environment_identity.py; it is left out here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from airflow.sdk import DAG, BaseOperator

from airflow_ml_provider import (
    DataReference,
    DataTransferStep,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    __version__,
)
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.endpoints.digest import step_pre_image as published_pre_image
from airflow_ml_provider.pipeline.describe import describe_step
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.steps import Step
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.step_kinds.kind import StepKind
from airflow_ml_provider.step_kinds.kinds import kind_of


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[StatCache]:
    cache = StatCache(tmp_path / "stat-cache.db")
    yield cache
    cache.close()


def script_step(tmp_path: Path) -> PythonScriptStep:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print('train')\n")
    return PythonScriptStep(
        name="train",
        script_name="train.py",
        source_directory=str(code),
        arguments=[
            "--alpha",
            PipelineParameter("alpha", default_value=0.5),
            "--data",
            PipelineData("features"),
        ],
        inputs=[PipelineData("features")],
        outputs=[PipelineData("model")],
        params={"MODE": "fast"},
        base_directory=str(tmp_path),
    )


def transfer_step(tmp_path: Path, destination: Any = None) -> DataTransferStep:
    (tmp_path / "dags").mkdir(exist_ok=True)
    (tmp_path / "dags" / "pipeline.py").write_text("# the DAG file\n")
    return DataTransferStep(
        name="copy",
        source_data_reference=DataReference("lake", "raw/wine.csv", name="raw_wine"),
        destination_data_reference=destination or PipelineData("wine", is_directory=False),
        source_reference_type="file",
        base_directory=str(tmp_path / "dags"),
    )


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def fingerprint_pre_image(step: Any, stats: StatCache) -> dict[str, Any]:
    from airflow_ml_provider.step_kinds.kinds import step_pre_image

    return step_pre_image(step, {"alpha": 0.5}, lambda data: f"digest-of-{data.name}", stats)


SCRIPT_PRE_IMAGE = (
    '{"arguments":["--alpha","${parameter:alpha}","--data","${data:features}"],'
    '"code":{"train.py":"5fbb34f0718767ca443a8325e79621297586736fc5ab449d3ec589995af8303d"},'
    '"inputs":{"features":"digest-of-features"},"params":{"AML_PARAMETER_MODE":"fast","alpha":"0.5"},'
    '"step":{"input_modes":{"features":null},"kind":"python_script","name":"train",'
    '"outputs":[{"datastore":"default","is_directory":true,"name":"model"}],"script":"train.py",'
    '"version":null},"version":1}'
)
TRANSFER_PRE_IMAGE = (
    '{"arguments":[],"code":{},"environment":{"transfer":"VERSION"},"inputs":{"raw_wine":"digest-of-raw_wine"},'
    '"params":{},"step":{"destination":{"datastore":null,"pipeline_data":"wine"},'
    '"destination_is_directory":false,"kind":"data_transfer","name":"copy",'
    '"outputs":[{"is_directory":false,"name":"wine"}],"source":{"datastore":"lake","path":"raw/wine.csv"},'
    '"source_reference_type":"file","version":null},"version":1}'
).replace("VERSION", __version__)
TRANSFER_TO_A_PLACE_PRE_IMAGE = (
    '{"arguments":[],"code":{},"environment":{"transfer":"VERSION"},"inputs":{"raw_wine":"digest-of-raw_wine"},'
    '"params":{},"step":{"destination":{"datastore":"lake","overwrite":false,"path":"copied/wine.csv"},'
    '"destination_is_directory":false,"kind":"data_transfer","name":"copy","outputs":[],'
    '"source":{"datastore":"lake","path":"raw/wine.csv"},"source_reference_type":"file","version":null},'
    '"version":1}'
).replace("VERSION", __version__)
PUBLISHED_SCRIPT = (
    '{"arguments":[["literal","--alpha"],["parameter","alpha"],["literal","--data"],["data","features"]],'
    '"code":{"train.py":"5fbb34f0718767ca443a8325e79621297586736fc5ab449d3ec589995af8303d"},'
    '"compute_target":"local","inputs":[{"datastore":null,"is_directory":true,"kind":"PipelineData",'
    '"mode":null,"name":"features","path":null}],"kind":"python_script","outputs":[{"datastore":null,'
    '"is_directory":true,"kind":"PipelineData","mode":null,"name":"model","path":null}],'
    '"params":{"MODE":["literal","fast"]},"script":"train.py","version":null}'
)
# A copy has no code: its published digest has always covered its DAG file's folder.
PUBLISHED_TRANSFER = (
    '{"arguments":[],"code":{"pipeline.py":"b80734f46ed1bafc4fd15099ee7443d87d76079ddbc7e01cbab1752035df06f7"},'
    '"compute_target":"local","inputs":[{"datastore":"lake","is_directory":null,"kind":"DataReference",'
    '"mode":null,"name":"raw_wine","path":"raw/wine.csv"}],"kind":"data_transfer","outputs":[{"datastore":null,'
    '"is_directory":false,"kind":"PipelineData","mode":null,"name":"wine","path":null}],"params":{},'
    '"script":"","version":null}'
)
DESCRIBED_SCRIPT = (
    '{"allow_reuse":true,"arguments":[{"kind":"literal","value":"--alpha"},{"kind":"parameter","value":"alpha"},'
    '{"kind":"literal","value":"--data"},{"kind":"data","value":"features"}],"compute_target":"local",'
    '"inputs":[{"datastore":"default","directory":true,"kind":"pipeline_data","mode":null,"name":"features"}],'
    '"kind":"python_script","name":"train","outputs":[{"datastore":"default","directory":true,'
    '"kind":"pipeline_data","mode":null,"name":"model"}],"parameters":["alpha"],"script":"train.py",'
    '"source_directory":"code","version":null}'
)
DESCRIBED_TRANSFER = (
    '{"allow_reuse":true,"compute_target":"local","destination":{"datastore":"default","directory":false,'
    '"kind":"pipeline_data","mode":null,"name":"wine"},"inputs":[{"datastore":"lake","kind":"reference",'
    '"mode":null,"name":"raw_wine","path":"raw/wine.csv"}],"kind":"data_transfer","name":"copy",'
    '"outputs":[{"datastore":"default","directory":false,"kind":"pipeline_data","mode":null,"name":"wine"}],'
    '"source_reference_type":"file","version":null}'
)


def test_script_steps_pre_image_is_unchanged(tmp_path: Path, stats: StatCache) -> None:
    pre_image = fingerprint_pre_image(script_step(tmp_path), stats)
    pre_image.pop("environment")
    assert canonical(pre_image) == SCRIPT_PRE_IMAGE


def test_transfer_steps_pre_image_is_unchanged(tmp_path: Path, stats: StatCache) -> None:
    assert canonical(fingerprint_pre_image(transfer_step(tmp_path), stats)) == TRANSFER_PRE_IMAGE
    to_a_place = transfer_step(tmp_path, DataReference("lake", "copied/wine.csv", name="copied_wine"))
    assert canonical(fingerprint_pre_image(to_a_place, stats)) == TRANSFER_TO_A_PLACE_PRE_IMAGE


def test_published_pre_images_are_unchanged(tmp_path: Path, stats: StatCache) -> None:
    assert canonical(published_pre_image(script_step(tmp_path), stats)) == PUBLISHED_SCRIPT
    assert canonical(published_pre_image(transfer_step(tmp_path), stats)) == PUBLISHED_TRANSFER


def test_descriptions_are_unchanged(tmp_path: Path) -> None:
    assert canonical(describe_step(script_step(tmp_path))) == DESCRIBED_SCRIPT
    assert canonical(describe_step(transfer_step(tmp_path))) == DESCRIBED_TRANSFER


def test_a_copy_refuses_a_compute_target_and_says_where_it_runs(tmp_path: Path) -> None:
    with pytest.raises(PipelineDefinitionError) as raised:
        DataTransferStep(
            name="copy",
            source=DataReference("lake", "raw/wine.csv", name="raw_wine"),
            destination=PipelineData("wine", is_directory=False),
            compute_target="gpu",
        )
    message = str(raised.value)
    assert 'step "copy"' in message and "compute_target" in message
    assert "runs on the Airflow worker" in message


def test_a_copy_has_no_code_arguments_or_parameters(tmp_path: Path) -> None:
    step = transfer_step(tmp_path)
    assert (step.source_directory, step.script_name, step.environment) == (None, None, None)
    assert (step.arguments, step.params, step.parameters) == ([], {}, {})
    assert step.base_directory == tmp_path / "dags"


class TouchStep(Step):
    """A new kind, as a user would add one: its model class..."""

    kind: ClassVar[str] = "touch"

    def __init__(self, name: str, outputs: list[PipelineData]) -> None:
        super().__init__(
            name=name, inputs=[], outputs=outputs, compute_target=None, allow_reuse=True, version="1"
        )
        self.base_directory = Path.cwd()
        self._attach()


class TouchOperator(BaseOperator):
    def __init__(self, *, step: Step, pipeline: RenderedPipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step


class TouchKind(StepKind):
    """... and how it is run and fingerprinted."""

    def pre_image(
        self, step: Any, params: Mapping[str, Any], input_digest: Callable[[Any], str], stat_cache: StatCache
    ) -> dict[str, Any]:
        return {"touch": step.name, "version": step.version}

    def run_task(self, step: Any, dag: DAG, pipeline: RenderedPipeline, **arguments: Any) -> BaseOperator:
        return TouchOperator(task_id="run", step=step, pipeline=pipeline, dag=dag, **arguments)


def test_a_new_kind_is_its_module_and_one_registration(
    tmp_path: Path, stats: StatCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_ml_provider.rendered import pipeline_of
    from airflow_ml_provider.step_kinds.kinds import REGISTERED, step_pre_image

    monkeypatch.setitem(REGISTERED, TouchStep.kind, TouchKind())
    script_step(tmp_path)  # writes its code folder
    with DAG("touching", schedule=None) as dag:
        touched = PipelineData("touched")
        TouchStep("touch", outputs=[touched])
        PythonScriptStep(
            name="after",
            script_name="train.py",
            source_directory=str(tmp_path / "code"),
            inputs=[touched],
            base_directory=str(tmp_path),
        )

    placed = pipeline_of(dag).steps["touch"]
    assert isinstance(dag.get_task("touch.run"), TouchOperator)
    assert dag.get_task("touch.reuse").pre_image(placed, {}, lambda data: "", stats) == {
        "touch": "touch",
        "version": "1",
    }
    assert step_pre_image(placed, {}, lambda data: "", stats) == {"touch": "touch", "version": "1"}
    assert "touch.run" in dag.get_task("after.reuse").upstream_task_ids
    assert describe_step(placed)["kind"] == "touch"


def test_an_unregistered_kind_is_refused_with_the_steps_name() -> None:
    class Unknown(Step):
        kind: ClassVar[str] = "unknown"

    step = Unknown(name="odd", inputs=[], outputs=[], compute_target=None, allow_reuse=True, version=None)
    with pytest.raises(PipelineDefinitionError, match='step kind "unknown"'):
        kind_of(step)
