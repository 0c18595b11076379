"""Where a step goes when it is built: into the DAG being defined, if one is open.

The model imports no Airflow. A DAG can be open only once Airflow is loaded, so before that a
new step is only recorded as built outside any DAG, and the renderer (which needs Airflow) is
not imported at all: building a pipeline model in a plain Python process stays Airflow-free.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_ml_provider.pipeline.steps import Step

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Steps built outside any ``with DAG(...)``, by the files whose code built them: the DAG policy
# reports them for the DAGs of those files (a step in no pipeline would never run).
_STEPS_IN_NO_DAG: dict[str, list[str]] = {}


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
