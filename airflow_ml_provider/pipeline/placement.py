"""Where a step goes when it is built: into the DAG being defined, if one is open.

The model imports no Airflow. A DAG can be open only once Airflow is loaded, so before that a
new step is only recorded as built outside any DAG, and the renderer (which needs Airflow) is
not loaded at all: building a pipeline model in a plain Python process stays Airflow-free.

The renderer owns the mapping from steps to tasks. It sits above the model, so the model never
imports it: the renderer registers itself here when it is imported, and the model asks
:func:`renderer` for it (which loads it by name when a DAG file has not imported it yet).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_ml_provider.pipeline.pipeline import Pipeline
    from airflow_ml_provider.pipeline.steps import Step

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Steps built outside any ``with DAG(...)``, by the files whose code built them: the DAG policy
# reports them for the DAGs of those files (a step in no pipeline would never run).
_STEPS_IN_NO_DAG: dict[str, list[str]] = {}


_RENDERER_MODULE = "airflow_ml_provider.render"


@dataclass(frozen=True)
class Renderer:
    """What the model asks of the renderer once Airflow is loaded."""

    # Place a new step in the DAG being defined (or record it as built outside any DAG).
    attach: Callable[[Step], None]
    # Wire ``before >> after`` in every DAG where both steps are placed.
    order: Callable[[Step, Step], None]
    # The id of the DAG being defined, to locate an error in it.
    current_dag_id: Callable[[], str | None]
    # ``Pipeline.to_dag(dag_id, dag=..., **dag_arguments)``: the pipeline, dag_id, dag, dag_arguments.
    to_dag: Callable[[Pipeline, str | None, Any, dict[str, Any]], Any]


_RENDERER: Renderer | None = None


def register_renderer(renderer: Renderer) -> None:
    global _RENDERER
    _RENDERER = renderer


def renderer() -> Renderer:
    """The renderer, loaded by name if no DAG file has imported it yet (this needs Airflow)."""
    if _RENDERER is None:
        importlib.import_module(_RENDERER_MODULE)
    if _RENDERER is None:
        raise RuntimeError(f"{_RENDERER_MODULE} did not register itself as the renderer")
    return _RENDERER


def airflow_is_loaded() -> bool:
    """Whether a DAG could be open (or a step placed in one) in this process."""
    return "airflow" in sys.modules


def built_outside_any_dag(step: Step) -> None:
    for filename in _user_files():
        _STEPS_IN_NO_DAG.setdefault(filename, []).append(step.name)


def placed_in_a_pipeline(step: Step) -> None:
    """A step built outside a DAG and then listed in a ``Pipeline(steps=...)`` belongs to one."""
    for names in _STEPS_IN_NO_DAG.values():
        if step.name in names:
            names.remove(step.name)


def steps_in_no_dag(fileloc: str) -> list[str]:
    """Steps that the file ``fileloc`` built outside any DAG (reported once)."""
    return _STEPS_IN_NO_DAG.pop(os.path.realpath(fileloc), [])


def _user_files() -> set[str]:
    """The files (outside this package) on the stack: the DAG file, helper modules it called."""
    found = set()
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            found.add(os.path.realpath(filename))
        frame = frame.f_back
    return found
