"""Script steps (``PythonScriptStep`` and the kinds built on it): run by ``StepRunOperator``
on their compute target; fingerprinted by their code, arguments, parameters, inputs and
environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import DAG, BaseOperator

from airflow_ml_provider.bundles import snapshot_limits
from airflow_ml_provider.caching.content import code_digests
from airflow_ml_provider.caching.fingerprint import UnfingerprintableError, base_pre_image
from airflow_ml_provider.caching.parts import arguments_part, environment_part, params_part, step_part
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.compute.kinds import kind_of
from airflow_ml_provider.hooks.compute import ComputeTargetHook
from airflow_ml_provider.operators.step import StepRunOperator
from airflow_ml_provider.queues import target_queue
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.sensors.decision import UNKNOWABLE, input_digests
from airflow_ml_provider.step_kinds.kind import StepKind


class ScriptKind(StepKind):
    def pre_image(
        self, step: Any, params: Mapping[str, Any], input_digest: Callable[[Any], str], stat_cache: StatCache
    ) -> dict[str, Any]:
        """A source directory over the snapshot limits raises SnapshotError."""
        try:
            target = ComputeTargetHook(step.compute_target).resolve()
            identity = kind_of(target).environment_identity(target, step.environment)
        except UNKNOWABLE as error:
            raise UnfingerprintableError(str(error)) from None
        inputs = input_digests(step, input_digest)
        return base_pre_image(
            step=step_part(step),
            code=code_digests(step.source_directory, stat_cache, snapshot_limits(step.base_directory)),
            arguments=arguments_part(step),
            params=params_part(step, dict(params)),
            inputs=inputs,
            environment=environment_part(step, target.kind, identity, stat_cache),
        )

    def run_task(self, step: Any, dag: DAG, pipeline: RenderedPipeline, **arguments: Any) -> BaseOperator:
        # The compute target's queue: remembered, so parsing reads no connection.
        queue = target_queue(step.compute_target)
        return StepRunOperator(
            task_id="run",
            step=step,
            pipeline=pipeline,
            dag=dag,
            doc_md=f"Runs `{step.script_name}` of step **{step.name}**.",
            **({"queue": queue} if queue else {}),
            **arguments,
        )
