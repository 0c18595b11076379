"""``DataTransferStep``: run by ``DataTransferOperator`` on the Airflow worker; fingerprinted
by what it copies (by content) and to where, never by code or environment (it has none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import DAG, BaseOperator

from airflow_ml_provider.caching.parts import transfer_pre_image
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.operators.transfer import DataTransferOperator
from airflow_ml_provider.rendered import RenderedPipeline
from airflow_ml_provider.sensors.decision import input_digests
from airflow_ml_provider.step_kinds.kind import StepKind


class TransferKind(StepKind):
    def pre_image(
        self, step: Any, params: Mapping[str, Any], input_digest: Callable[[Any], str], stat_cache: StatCache
    ) -> dict[str, Any]:
        return transfer_pre_image(step, input_digests(step, input_digest))

    def run_task(self, step: Any, dag: DAG, pipeline: RenderedPipeline, **arguments: Any) -> BaseOperator:
        return DataTransferOperator(
            task_id="run",
            step=step,
            pipeline=pipeline,
            dag=dag,
            doc_md=f"Copies **{step.source.name}** to **{step.destination.name}** (step **{step.name}**).",
            **arguments,
        )
