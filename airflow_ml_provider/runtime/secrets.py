"""A step spec's credentials, kept apart from the spec where the spec itself is shown.

A pod's spec travels in the pod's definition, which the Kubernetes API, its audit log and
anyone who can read pods see. So the spec handed to a pod has its credentials taken out
(storage options such as an S3 key, secret and session token; MLflow's password and token)
and they travel in a Kubernetes Secret instead; the runtime in the pod puts them back.
No Airflow here: the runtime in the pod uses it.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_ml_provider.runtime.spec import StepSpec

# fsspec / s3fs / gcsfs / adlfs option names that hold credentials, at any depth of the options.
SECRET_OPTIONS = frozenset(
    {
        "key",
        "secret",
        "token",
        "password",
        "session_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "account_key",
        "sas_token",
        "client_secret",
        "connection_string",
        "credentials",
    }
)
SECRET_VARIABLES = frozenset(
    {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"}
)

Path = list[Any]


def _strip(value: Any, path: list[Any], found: list[dict[str, Any]], secret_keys: frozenset[str]) -> Any:
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key in secret_keys and item not in (None, ""):
            found.append({"path": [*path, key], "value": item})
        else:
            kept[key] = _strip(item, [*path, key], found, SECRET_OPTIONS)
    return kept


def split_secrets(spec: StepSpec) -> tuple[StepSpec, list[dict[str, Any]]]:
    """(the spec without credentials, the credentials as ``[{path, value}]``)."""
    raw = json.loads(spec.to_json())
    found: list[dict[str, Any]] = []
    for kind in ("inputs", "outputs"):
        raw[kind] = [
            {
                **item,
                "storage_options": _strip(
                    item["storage_options"], [kind, index, "storage_options"], found, SECRET_OPTIONS
                ),
            }
            for index, item in enumerate(raw[kind])
        ]
    raw["environment"] = _strip(raw["environment"], ["environment"], found, SECRET_VARIABLES)
    return StepSpec.from_json(json.dumps(raw)), found


def with_secrets(spec: StepSpec, secrets: list[dict[str, Any]]) -> StepSpec:
    """The spec with its credentials put back where :func:`split_secrets` took them from."""
    raw = json.loads(spec.to_json())
    for secret in secrets:
        *parents, key = secret["path"]
        target = raw
        for part in parents:
            target = target[part]
        target[key] = secret["value"]
    return StepSpec.from_json(json.dumps(raw))
