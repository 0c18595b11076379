"""``<step>.run``: stages inputs, runs the script on its compute target, publishes outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException
from airflow.sdk import Context

from airflow_ml_provider import settings
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.verify import output_problem, store_digest
from airflow_ml_provider.compute.kinds import kind_of
from airflow_ml_provider.compute.local import local_python
from airflow_ml_provider.handoff import (
    MODEL_VERSION_KEY,
    OutputReference,
    ProducedBy,
)
from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook
from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook, ResolvedDatastore
from airflow_ml_provider.hooks.tracking_config import TrackingUnavailableError
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.operators.base import Attempt, Produced, StepRunBase
from airflow_ml_provider.pipeline.arguments import ArgumentToken, render_parameter
from airflow_ml_provider.pipeline.data import DataReference, PipelineData
from airflow_ml_provider.pipeline.datapath import bind_run_parameters
from airflow_ml_provider.pipeline.datasets import described_inputs
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.steps import EstimatorStep
from airflow_ml_provider.queues import remember
from airflow_ml_provider.runtime import (
    InputSpec,
    OutputSpec,
    ScriptFailedError,
    StagingError,
    StepResult,
    StepSpec,
)
from airflow_ml_provider.runtime.bootstrap import AZUREML_COMPAT_VARIABLE
from airflow_ml_provider.runtime.commandline import CommandLineError
from airflow_ml_provider.runtime.placeholders import INPUT_DATASETS_VARIABLE, expand_parameters
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.settings import compute_queue_seconds
from airflow_ml_provider.tracking.registry import register_model
from airflow_ml_provider.tracking.step import StepTracking
from airflow_ml_provider.xcom_handoff import produced_reference


def input_mode(declared: str | None, datastore: ResolvedDatastore) -> str:
    """Left out, an input is mounted where its datastore is local and downloaded otherwise."""
    if declared:
        return declared
    return "mount" if datastore.is_local else "download"


class StepRunOperator(StepRunBase):
    """Runs one attempt of a script step and pushes its output references to XCom (as the return value).

    The return value is ``{output name: {uri, digest, size, files, produced_by}}``: JSON,
    references only, never the data.
    """

    ui_color = "#dbe9f6"
    stops = "its script"

    def prepare(self, context: Context, work: Path) -> Attempt:
        step = self.step
        try:
            target = ComputeTargetHook(step.compute_target).resolve()
            inputs = [self._input_spec(data, context) for data in step.inputs]
            outputs = [self._output_spec(data, context) for data in step.outputs]
        except (ComputeTargetError, DatastoreError) as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        self._check_queue(target.name, target.queue)
        return Attempt(
            work,
            [spec.uri for spec in inputs],
            [str(path.parent) for o in outputs if (path := local_path(o.uri)) is not None],
            target.name,
            run_parameters(context),
            plan=(target, inputs, outputs),
        )

    def produce(self, context: Context, attempt: Attempt, tracking: StepTracking | None) -> Produced:
        step = self.step
        target, inputs, outputs = attempt.plan
        spec = self._spec(context, inputs, outputs, str(attempt.work), tracking)
        try:
            result = kind_of(target).run(
                target,
                spec,
                step.environment or Environment(),
                step.base_directory or Path(spec.source_directory),
                info=self.log.info,
                warning=self.log.warning,
                stopper=self._stopper,
            )
        except (ScriptFailedError, StagingError, CommandLineError) as error:
            raise AirflowException(str(error)) from None
        return Produced(
            self._references(result, context, outputs), result.imported_modules, step.source_directory
        )

    def register(self, context: Context, tracking: StepTracking | None, produced: Produced) -> str | None:
        """An EstimatorStep's ``register_model``: the model it logged (or its output folder), versioned."""
        step = self.step
        if tracking is None or not isinstance(step, EstimatorStep) or not step.register_model:
            return None
        try:
            model_version = register_model(
                tracking,
                step.register_model,
                step.model_alias,
                self._model_folder(produced.references),
                self.log.info,
            )
        except TrackingUnavailableError as error:
            if step.tracking != "optional":
                raise AirflowException(f'step "{step.name}": {error}') from None
            self.log.warning(f'step "{step.name}": {error}')
            return None
        context["ti"].xcom_push(key=MODEL_VERSION_KEY, value=model_version)
        return model_version

    def _check_queue(self, target: str, queue: str | None) -> None:
        """The queue came from what parsing remembered; say so when the connection now differs."""
        remember(target, queue)
        if queue and queue != self.queue:
            self.log.warning(
                f'step "{self.step.name}": compute target "{target}" now routes to queue "{queue}", '
                f'but this task was queued on "{self.queue}": parsing remembers a target\'s queue for '
                f"up to {compute_queue_seconds():.0f} s ([ml_pipelines] compute_queue_seconds); "
                "the next parse after that uses the new queue."
            )

    def _spec(
        self,
        context: Context,
        inputs: list[InputSpec],
        outputs: list[OutputSpec],
        work: str,
        tracking: StepTracking | None,
    ) -> StepSpec:
        step, params = self.step, run_parameters(context)
        environment = {
            f"AML_PARAMETER_{name}": _resolve_parameter(token, params)["value"]
            for name, token in step.params.items()
        }
        if step.environment is not None:
            environment.update(step.environment.variables)
        if step.azureml_compat:
            environment[AZUREML_COMPAT_VARIABLE] = "1"
        described = described_inputs(step.inputs)
        if described:
            environment[INPUT_DATASETS_VARIABLE] = json.dumps(described, sort_keys=True)
        if tracking is not None:
            environment.update(tracking.script_environment())
        return StepSpec(
            step=step.name,
            script=step.script_name,
            source_directory=str(step.source_directory),
            arguments=[_resolve_parameter(token, params) for token in step.arguments],
            inputs=inputs,
            outputs=outputs,
            work_directory=work,
            python=local_python(),
            environment=environment,
            python_path=[str(step.source_directory), str(step.base_directory)],
        )

    def _model_folder(self, references: dict[str, OutputReference]) -> Path | None:
        name = getattr(self.step, "model_output", None)
        if not name or name not in references:
            return None
        return local_path(references[name].uri)

    def _input_spec(self, data: DataReference | PipelineData, context: Context) -> InputSpec:
        data = bind_run_parameters(data, run_parameters(context))
        if isinstance(data, DataReference):
            datastore = DatastoreHook(data.datastore).resolve()
            return InputSpec(
                data.name,
                datastore.uri(data.path_on_datastore),
                input_mode(data.mode, datastore),
                datastore.storage_options,
            )
        reference = produced_reference(self.pipeline, self.step.name, data.name, context["ti"])
        datastore = DatastoreHook(data.datastore or "default").resolve()
        self._check_staged_input(data.name, reference, datastore.storage_options)
        mode = input_mode(data.mode, datastore)
        return InputSpec(data.name, reference.uri, mode, datastore.storage_options)

    def _check_staged_input(
        self, name: str, reference: OutputReference, storage_options: dict[str, Any]
    ) -> None:
        """An input must still hold what its producer published (unchanged files are not re-read)."""
        stat_cache = StatCache(settings.stat_cache_path(), self.log.warning)
        try:
            problem = output_problem(
                name,
                reference.to_json(),
                full=False,
                cache=stat_cache,
                storage_options=lambda: storage_options,
                kind="input",
            )
        finally:
            stat_cache.close()
        if problem:
            raise AirflowException(
                f'step "{self.step.name}": {problem} since run {reference.produced_by.run_id} published it '
                "(its recorded digest no longer matches). Nothing ran; run the pipeline again, "
                "so that the producing step is checked and re-run."
            )

    def _output_spec(self, data: PipelineData, context: Context) -> OutputSpec:
        datastore = DatastoreHook(data.datastore or "default").resolve()
        ti = context["ti"]
        path = pipeline_data_path(ti.dag_id, ti.run_id, self.step.name, ti.try_number, data.name)
        return OutputSpec(data.name, datastore.uri(path), data.is_directory, datastore.storage_options)

    def _references(
        self, result: StepResult, context: Context, outputs: list[OutputSpec]
    ) -> dict[str, OutputReference]:
        produced_by = ProducedBy.of(context["ti"])
        options = {output.name: output.storage_options for output in outputs}
        return {
            name: OutputReference(
                record.uri,
                record.digest,
                record.size,
                record.files,
                produced_by,
                store_digest(record.uri, options.get(name, {})),
            )
            for name, record in result.outputs.items()
        }


def _resolve_parameter(token: ArgumentToken, params: Any) -> dict[str, str]:
    if token.kind == "parameter":
        return {"kind": "literal", "value": render_parameter(params[token.value])}
    if token.kind == "literal" and "$AML_PARAMETER_" in token.value:
        values = {name: render_parameter(params[name]) for name in params}
        return {"kind": "literal", "value": expand_parameters(token.value, values)}
    return token.to_json()
