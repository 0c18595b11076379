"""Azure ML v1 placeholders in arguments built as strings, and the variables scripts read.

``str(data)`` is ``$AML_DATAREFERENCE_<name>`` here and ``$AZUREML_DATAREFERENCE_<name>`` in
Azure ML v1; an argument such as ``f"--data={data}"`` reaches the runtime with the
placeholder, replaced by the data's local path before the script starts. Scripts also read
``AZUREML_DATAREFERENCE_<name>`` from their environment. Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

DATA_PLACEHOLDER = re.compile(
    r"\$(AML_DATAREFERENCE|AZUREML_DATAREFERENCE|AML_PIPELINEDATA)_([A-Za-z0-9_-]+)"
)
PARAMETER_PLACEHOLDER = re.compile(r"\$AML_PARAMETER_([A-Za-z0-9_-]+)")
INPUT_DATASETS_VARIABLE = "AML_INPUT_DATASETS"


def _longest_name(found: str, names: Mapping[str, str]) -> str | None:
    matches = [name for name in names if found.startswith(name)]
    return max(matches, key=len) if matches else None


def expand_data(text: str, paths: Mapping[str, str]) -> str:
    """``text`` with every data placeholder replaced by that data's path (longest name wins)."""

    def replace(match: re.Match[str]) -> str:
        name = _longest_name(match.group(2), paths)
        if name is None:
            return match.group(0)
        return paths[name] + match.group(2)[len(name) :]

    return DATA_PLACEHOLDER.sub(replace, text)


def expand_parameters(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``$AML_PARAMETER_<name>`` replaced by that parameter's value."""

    def replace(match: re.Match[str]) -> str:
        name = _longest_name(match.group(1), values)
        if name is None:
            return match.group(0)
        return values[name] + match.group(1)[len(name) :]

    return PARAMETER_PLACEHOLDER.sub(replace, text)


def data_variables(paths: Mapping[str, str], environment: Mapping[str, str]) -> dict[str, str]:
    """``AZUREML_DATAREFERENCE_<name>`` for every input and output, and for each input's
    ``input_name`` (listed by the run task in ``AML_INPUT_DATASETS``)."""
    variables = {f"AZUREML_DATAREFERENCE_{name}": path for name, path in paths.items()}
    for alias, described in json.loads(environment.get(INPUT_DATASETS_VARIABLE) or "{}").items():
        if described.get("data") in paths:
            variables[f"AZUREML_DATAREFERENCE_{alias}"] = paths[described["data"]]
    return variables
