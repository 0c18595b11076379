"""``DatastoreSchedule``: run a pipeline when files land or change on a datastore path.

Azure ML's ``Schedule.create(datastore=..., path_on_datastore=..., polling_interval=...,
data_path_parameter_name=...)``, built on Airflow's own event-driven scheduling: an Asset
with an ``AssetWatcher`` whose trigger (``DatastoreChangeTrigger``) runs in the triggerer.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from airflow.sdk import Asset, AssetWatcher

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name
from airflow_ml_provider.triggers.datastore_change import DatastoreChangeTrigger

ASSET_SCHEME = "x-ml-datastore"


def DatastoreSchedule(  # named as the Azure ML class it replaces
    datastore: str = "default",
    path_on_datastore: str = "",
    polling_interval: float = 5,
    data_path_parameter_name: str | None = None,
) -> Asset:
    """An Asset to use as a DAG's ``schedule``: a run starts when files under the path change.

    - ``polling_interval``: minutes between two looks (as in Azure ML; 0.5 is 30 seconds).
    - ``data_path_parameter_name``: the pipeline parameter that receives the changed path
      on the datastore (a file, or the common folder when several changed at once).
    - Subfolders are watched; a file counts as changed when its content digest changes
      (rewriting the same bytes starts nothing); what is there when watching starts is
      the baseline.

    Combine with other assets as any Asset (``DatastoreSchedule(...) | Asset("x")``).
    """
    if not isinstance(datastore, str) or not datastore:
        raise PipelineDefinitionError(
            f"datastore must be a datastore name, not {datastore!r}.",
            fix='Name the datastore (an mldatastore connection), or leave it out for "default".',
            argument="datastore",
        )
    if not isinstance(polling_interval, int | float) or polling_interval <= 0:
        raise PipelineDefinitionError(
            f"polling_interval must be a positive number of minutes, not {polling_interval!r}.",
            fix="For example polling_interval=5 (minutes) or 0.5 (30 seconds).",
            argument="polling_interval",
        )
    if data_path_parameter_name is not None:
        check_name(data_path_parameter_name, what="parameter", step=None, argument="data_path_parameter_name")
    path = path_on_datastore.strip("/")
    if ".." in path.split("/"):
        raise PipelineDefinitionError(
            f"path_on_datastore {path_on_datastore!r} leaves the datastore.",
            fix="Give a path inside the datastore, without '..'.",
            argument="path_on_datastore",
        )
    seconds = float(polling_interval) * 60
    query = {
        "every": f"{seconds:g}s",
        **({"parameter": data_path_parameter_name} if data_path_parameter_name else {}),
    }
    uri = f"{ASSET_SCHEME}://{quote(datastore)}/{quote(path)}?{urlencode(query)}"
    trigger = DatastoreChangeTrigger(datastore, path, seconds, data_path_parameter_name)
    return Asset(
        name=uri, uri=uri, watchers=[AssetWatcher(name=f"watch {datastore}:/{path}", trigger=trigger)]
    )
