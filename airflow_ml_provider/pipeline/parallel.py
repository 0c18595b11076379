"""Azure ML v1's ``ParallelRunStep``: an entry script's ``run(mini_batch)`` over its inputs.

Here the mini-batches of one step run in one task, in ``process_count_per_node`` processes
of its compute target (``node_count`` nodes are not spread over several workers yet). The
entry script, its ``init()``/``run()`` and its ``append_row`` output are Azure ML's.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_ml_provider.pipeline.compat import ignored, ignored_keywords
from airflow_ml_provider.pipeline.data import PipelineData
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.runconfig import step_environment, target_name
from airflow_ml_provider.pipeline.steps import PythonScriptStep, as_data_inputs
from airflow_ml_provider.runtime.bootstrap import STEP_DRIVER_VARIABLE
from airflow_ml_provider.runtime.parallel_run import CONFIG_VARIABLE

OUTPUT_ACTIONS = ("append_row", "summary_only")


@dataclass
class ParallelRunConfig:
    """How the entry script runs: mini-batch size, failures allowed, what is kept of the results."""

    entry_script: str
    error_threshold: int
    output_action: str
    compute_target: Any
    node_count: int = 1
    mini_batch_size: int | str | None = None
    source_directory: str | os.PathLike[str] | None = None
    description: str | None = None
    logging_level: str = "INFO"
    run_invocation_timeout: int = 60
    run_max_try: int = 3
    process_count_per_node: int | None = None
    append_row_file_name: str | None = None
    allowed_failed_count: int | None = None
    allowed_failed_percent: float | None = None
    partition_keys: list[str] | None = None
    environment: Any = None

    def __post_init__(self) -> None:
        if self.output_action not in OUTPUT_ACTIONS:
            raise PipelineDefinitionError(
                f"output_action {self.output_action!r} is not one of {', '.join(OUTPUT_ACTIONS)}.",
                fix='Use "append_row" to collect what run() returns, or "summary_only".',
                argument="output_action",
            )
        ignored_keywords(
            "ParallelRunConfig",
            {
                "node_count": self.node_count if self.node_count != 1 else None,
                "partition_keys": self.partition_keys,
                "allowed_failed_percent": self.allowed_failed_percent,
            },
            {
                "node_count": "a step's mini-batches run on one worker, in process_count_per_node processes.",
                "partition_keys": "mini-batches are cut by size, not by partition.",
                "allowed_failed_percent": "error_threshold (or allowed_failed_count) limits failures.",
            },
        )

    def driver_settings(self, inputs: list[str], output: str | None) -> dict[str, Any]:
        threshold = (
            self.allowed_failed_count if self.allowed_failed_count is not None else self.error_threshold
        )
        return {
            "inputs": inputs,
            "output": output,
            "mini_batch_size": self.mini_batch_size,
            "error_threshold": threshold,
            "output_action": self.output_action,
            "append_row_file_name": self.append_row_file_name,
            "process_count_per_node": self.process_count_per_node or 1,
        }


class ParallelRunStep(PythonScriptStep):
    """``run(mini_batch)`` of ``parallel_run_config.entry_script`` over every item of ``inputs``."""

    def __init__(
        self,
        name: str,
        parallel_run_config: ParallelRunConfig,
        inputs: Sequence[Any],
        output: PipelineData | None = None,
        side_inputs: Sequence[Any] | None = None,
        arguments: Sequence[Any] | None = None,
        allow_reuse: bool = True,
        **step_options: Any,
    ) -> None:
        config = parallel_run_config
        batch_inputs = as_data_inputs(list(inputs))
        side = as_data_inputs(list(side_inputs or []))
        if config.run_invocation_timeout != 60 or config.run_max_try != 3:
            ignored(
                "ParallelRunConfig",
                "run_invocation_timeout",
                "a mini-batch runs until it returns; set execution_timeout on the DAG for the whole step.",
            )
        settings = config.driver_settings(
            [data.name for data in batch_inputs], output.name if output else None
        )
        environment = step_environment(config.environment, None) or Environment()
        environment = dataclasses.replace(
            environment,
            variables={
                **environment.variables,
                STEP_DRIVER_VARIABLE: "parallel_run.py",
                CONFIG_VARIABLE: json.dumps(settings, sort_keys=True),
            },
        )
        self.parallel_run_config = config
        super().__init__(
            script_name=config.entry_script,
            name=name,
            arguments=arguments,
            compute_target=target_name(config.compute_target),
            inputs=[*batch_inputs, *side],
            outputs=[output] if output is not None else [],
            source_directory=config.source_directory,
            allow_reuse=allow_reuse,
            environment=environment,
            **step_options,
        )
