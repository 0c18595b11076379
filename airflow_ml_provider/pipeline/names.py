"""Names that become path components and Airflow ids must be safe for both."""

from __future__ import annotations

import re

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")


def check_name(value: object, *, what: str, step: str | None, argument: str) -> str:
    """Return ``value`` if it can be a folder name and an Airflow id, else raise.

    Step and output names end up in datastore paths and task ids, so ``../x``, ``/abs``,
    an empty name, or spaces would escape the step's folder or break the task id.
    """
    if isinstance(value, str) and _SAFE_NAME.match(value):
        return value
    raise PipelineDefinitionError(
        f"{what} {value!r} is not a safe name: it becomes a folder name on the datastore "
        "and part of an Airflow task id.",
        fix="Use 1-100 letters, digits, '_' or '-', not starting with '-' (for example \"train_model\").",
        step=step,
        argument=argument,
    )
