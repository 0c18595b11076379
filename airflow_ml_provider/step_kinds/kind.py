"""The interface of a step kind: its run task and its fingerprint's pre-image.

It sits just below the renderer in the layers, so that it may name the operator classes;
the reuse sensor (a layer below the operators) is handed the kind's ``pre_image`` by the
renderer, and ``airflow-ml status`` (above the renderer) asks the registry itself, so the
two make the same decision from the same function.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import DAG, BaseOperator

from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.rendered import RenderedPipeline


class StepKind(ABC):
    """How one kind of step is run and fingerprinted."""

    @abstractmethod
    def pre_image(
        self, step: Any, params: Mapping[str, Any], input_digest: Callable[[Any], str], stat_cache: StatCache
    ) -> dict[str, Any]:
        """What the step's fingerprint is a digest of; UnfingerprintableError when a part
        cannot be known. ``input_digest`` gives each input's content digest."""

    @abstractmethod
    def run_task(self, step: Any, dag: DAG, pipeline: RenderedPipeline, **arguments: Any) -> BaseOperator:
        """The step's ``run`` task in ``dag`` (``arguments``: what every run task gets, its
        asset outlets and schedule)."""
