"""``airflow-ml datastore``: put data on a datastore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from airflow_ml_provider.cli.app import datastore_app


@datastore_app.command("upload")
def datastore_upload(
    source: Annotated[Path, typer.Argument(help="A file or a folder to upload")],
    datastore: Annotated[str, typer.Option(help="Datastore name")] = "default",
    target_path: Annotated[str, typer.Option(help="Folder on the datastore")] = "",
    overwrite: Annotated[bool, typer.Option(help="Replace files that exist")] = False,
) -> None:
    """Copy local data onto a datastore (as Azure ML's Datastore.upload)."""
    from airflow_ml_provider.datastore import Datastore

    store = Datastore(datastore)
    if source.is_dir():
        store.upload(source, target_path, overwrite=overwrite)
    else:
        store.upload_files([source], target_path, overwrite=overwrite)
