"""Azure ML v1's ``DataTransferStep``: its ``compute_target`` (a Data Factory) is accepted and ignored.

The step of this package has no compute target (the copy runs on the Airflow worker) and
refuses one; ported v1 code names the Data Factory that ran its copies there.
"""

from __future__ import annotations

from typing import Any

from airflow_ml_provider.pipeline import transfer
from airflow_ml_provider.pipeline.compat import ignored


class DataTransferStep(transfer.DataTransferStep):
    """``airflow_ml_provider.DataTransferStep``, taking v1's ``compute_target`` with a warning."""

    def __init__(self, *args: Any, compute_target: Any = None, **kwargs: Any) -> None:
        if compute_target is not None:
            ignored(
                "DataTransferStep",
                "compute_target",
                "the copy runs on the Airflow worker, streaming between the two datastores.",
            )
        super().__init__(*args, **kwargs)
