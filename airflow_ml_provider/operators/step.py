"""``<step>.run``: stages inputs, runs the script on its compute target, publishes outputs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException
from airflow.sdk import BaseOperator, Context

from airflow_ml_provider import settings
from airflow_ml_provider.attempts import AttemptRecord, sweep_dead_attempts
from airflow_ml_provider.caching.commit import LeaseKeeper, commit_result
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import StepCacheStore
from airflow_ml_provider.caching.verify import output_problem, reference_digest, store_digest
from airflow_ml_provider.compute import run_on_target
from airflow_ml_provider.compute.local import local_python
from airflow_ml_provider.handoff import (
    MODEL_VERSION_KEY,
    RUN_ID_KEY,
    FingerprintClaim,
    OutputReference,
    ProducedBy,
    ResultOrigin,
    references_to_json,
)
from airflow_ml_provider.hooks.compute import ComputeTargetError, ComputeTargetHook
from airflow_ml_provider.hooks.datastore import DatastoreError, DatastoreHook, ResolvedDatastore
from airflow_ml_provider.lineage import StepLineage, StepLineageMixin
from airflow_ml_provider.links import MlflowRunLink
from airflow_ml_provider.locations import pipeline_data_path
from airflow_ml_provider.pipeline.arguments import ArgumentToken, render_parameter
from airflow_ml_provider.pipeline.data import DataReference, PipelineData
from airflow_ml_provider.pipeline.datapath import bind_run_parameters
from airflow_ml_provider.pipeline.datasets import described_inputs
from airflow_ml_provider.pipeline.sql import SqlDataReference
from airflow_ml_provider.pipeline.steps import EstimatorStep, PythonScriptStep
from airflow_ml_provider.queues import remember
from airflow_ml_provider.references import fingerprint_claim, produced_reference
from airflow_ml_provider.rendered import RenderedPipeline
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
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.staging import local_path
from airflow_ml_provider.runtime.stores import StoreError
from airflow_ml_provider.schedules.parameters import run_parameters
from airflow_ml_provider.settings import compute_queue_seconds
from airflow_ml_provider.tracking.config import TrackingUnavailableError
from airflow_ml_provider.tracking.registry import register_model
from airflow_ml_provider.tracking.step import StepTracking, open_for_task


def input_mode(declared: str | None, datastore: ResolvedDatastore) -> str:
    """Left out, an input is mounted where its datastore is local and downloaded otherwise."""
    if declared:
        return declared
    return "mount" if datastore.is_local else "download"


class StepRunOperator(StepLineageMixin, BaseOperator):
    """Runs one step attempt and pushes its output references to XCom (as the return value).

    The return value is ``{output name: {uri, digest, size, files, produced_by}}``: JSON,
    references only, never the data.
    """

    ui_color = "#dbe9f6"
    operator_extra_links = (MlflowRunLink(),)

    def __init__(self, *, step: PythonScriptStep, pipeline: RenderedPipeline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.pipeline = pipeline
        self.mlflow_run_url: str | None = None
        self._stopper = Stopper()

    def on_kill(self) -> None:
        """The task is being killed: stop the script's process group, its container or its pod."""
        self.log.warning(f'step "{self.step.name}": killed; stopping its script')
        self._stopper.stop()

    def execute(self, context: Context) -> dict[str, dict[str, Any]]:
        step = self.step
        try:
            target = ComputeTargetHook(step.compute_target).resolve()
            inputs = [self._input_spec(data, context) for data in step.inputs]
            outputs = [self._output_spec(data, context) for data in step.outputs]
        except (ComputeTargetError, DatastoreError) as error:
            raise AirflowException(f'step "{step.name}": {error}') from None
        self._check_queue(target.name, target.queue)
        claim = fingerprint_claim(self.pipeline, self.step, context["ti"])
        self.lineage = StepLineage(
            step.name, [spec.uri for spec in inputs], fingerprint=claim.base_key if claim else None
        )
        sweep_dead_attempts(self.log.warning)
        tracking = self._open_tracking(context, target.name, claim)
        output_folders = [str(path.parent) for o in outputs if (path := local_path(o.uri)) is not None]
        ti = context["ti"]
        with (
            tempfile.TemporaryDirectory(prefix=f"aml-{step.name}-") as work,
            AttemptRecord(
                f"{ti.dag_id} {ti.run_id} {step.name} try {ti.try_number}", work, output_folders
            ) as record,
        ):
            if tracking is not None:
                record.note(mlflow_run_id=tracking.run_id)
            if claim:
                record.note(lease=[claim.base_key, str(claim.holder)])
            spec = self._spec(context, inputs, outputs, work, tracking)
            store = StepCacheStore() if claim else None
            with LeaseKeeper(store, claim) if store and claim else nullcontext():
                try:
                    result = run_on_target(
                        target,
                        spec,
                        info=self.log.info,
                        warning=self.log.warning,
                        environment=step.environment,
                        base_directory=step.base_directory,
                        stopper=self._stopper,
                    )
                except (ScriptFailedError, StagingError, CommandLineError) as error:
                    self._close_tracking(tracking, succeeded=False)
                    raise AirflowException(str(error)) from None
                except BaseException:
                    self._close_tracking(tracking, succeeded=False)
                    raise
                references = self._references(result, context, outputs)
                self.lineage = replace(
                    self.lineage,
                    outputs=[reference.uri for reference in references.values()],
                    mlflow_run_id=tracking.run_id if tracking else None,
                )
                model_version = self._close_tracking(
                    tracking, succeeded=True, context=context, references=references
                )
                changed = (
                    changed_references(step, store, claim.base_key, self.log.warning, run_parameters(context))
                    if store and claim
                    else []
                )
                for change in changed:
                    self.log.warning(f'step "{step.name}": {change}; its result is not cached')
                if store and claim and not changed:
                    key = commit_result(
                        store,
                        base=claim.base_key,
                        dag_id=context["ti"].dag_id,
                        step=step.name,
                        source_directory=step.source_directory,
                        base_directory=step.base_directory,
                        imported_modules=result.imported_modules,
                        outputs=references,
                        # A later run reusing this result reports the same MLflow run and model version.
                        origin=ResultOrigin(
                            ProducedBy.of(context["ti"]), tracking.run_id if tracking else None, model_version
                        ),
                        warn=self.log.warning,
                    )
                    if key:
                        self.log.info(f'step "{step.name}": result cached under fingerprint {key[:12]}')
        return references_to_json(references)

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
        if getattr(step, "azureml_compat", False):
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

    def _open_tracking(
        self, context: Context, target: str, claim: FingerprintClaim | None
    ) -> StepTracking | None:
        step, ti = self.step, context["ti"]
        try:
            tracking = open_for_task(
                step,
                ti,
                run_parameters(context),
                fingerprint=claim.base_key if claim else "none",
                compute_target=target,
                warn=self.log.warning,
            )
        except TrackingUnavailableError as error:
            raise AirflowException(str(error)) from None
        if tracking is not None:
            self.mlflow_run_url = tracking.url
            context["ti"].xcom_push(key=RUN_ID_KEY, value=tracking.run_id)
            self.log.info(
                f'step "{step.name}": MLflow run {tracking.run_id}'
                + (f" ({tracking.url})" if tracking.url else "")
            )
        return tracking

    def _close_tracking(
        self,
        tracking: StepTracking | None,
        *,
        succeeded: bool,
        context: Context | None = None,
        references: dict[str, OutputReference] | None = None,
    ) -> str | None:
        """Close the step's run; register its model on success. Returns the model version, if any."""
        if tracking is None:
            return None
        model_version = None
        try:
            tracking.finish(succeeded, self.step.name, killed=self._stopper.stopped)
            if succeeded and isinstance(self.step, EstimatorStep) and self.step.register_model and context:
                model_version = register_model(
                    tracking,
                    self.step.register_model,
                    self.step.model_alias,
                    self._model_folder(references or {}),
                    self.log.info,
                )
                context["ti"].xcom_push(key=MODEL_VERSION_KEY, value=model_version)
        except TrackingUnavailableError as error:
            if succeeded and self.step.tracking != "optional":
                raise AirflowException(f'step "{self.step.name}": {error}') from None
            self.log.warning(f'step "{self.step.name}": {error}')
        return model_version

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
        self._check_staged_input(data.name, reference)
        mode = input_mode(data.mode, datastore)
        return InputSpec(data.name, reference.uri, mode, datastore.storage_options)

    def _check_staged_input(self, name: str, reference: OutputReference) -> None:
        """An input must still hold what its producer published (unchanged files are not re-read)."""
        stat_cache = StatCache(settings.stat_cache_path(), self.log.warning)
        try:
            problem = output_problem(name, reference.to_json(), full=False, cache=stat_cache, kind="input")
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


def changed_references(
    step: Any, store: StepCacheStore, base: str, warn: Callable[[str], None], params: Any
) -> list[str]:
    """The ``DataReference`` inputs whose data differs now from what the fingerprint was made of.

    A result is cached under its fingerprint only if it was made from the data that
    fingerprint names: data that changed while the step ran makes it a one-off. ``params``:
    the run's parameters (a DataPath input is where its parameter points). A SQL source is
    not queried again: the copy's own digest is what its readers see.
    """
    expected = (store.pre_image(base) or {}).get("inputs", {})
    changed = []
    stat_cache = StatCache(settings.stat_cache_path(), warn)
    try:
        for data in step.inputs:
            data = bind_run_parameters(data, params)
            if not isinstance(data, DataReference) or isinstance(data, SqlDataReference):
                continue
            if data.name not in expected:
                continue
            datastore = DatastoreHook(data.datastore).resolve()
            uri = datastore.uri(data.path_on_datastore)
            try:
                now = reference_digest(
                    uri, datastore.storage_options, datastore=datastore.name, cache=stat_cache
                )
            except (FileNotFoundError, StoreError) as error:
                now = f"unreadable: {error}"
            if now != expected[data.name]:
                changed.append(f'input "{data.name}" at {uri} changed while the step ran')
    finally:
        stat_cache.close()
    return changed


def _resolve_parameter(token: ArgumentToken, params: Any) -> dict[str, str]:
    if token.kind == "parameter":
        return {"kind": "literal", "value": render_parameter(params[token.value])}
    if token.kind == "literal" and "$AML_PARAMETER_" in token.value:
        values = {name: render_parameter(params[name]) for name in params}
        return {"kind": "literal", "value": expand_parameters(token.value, values)}
    return token.to_json()
