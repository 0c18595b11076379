"""Feature definitions shared by the featurize and score steps of the wine pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "target"

# Columns of sklearn's wine dataset, as written by make_data.py.
RAW_COLUMNS: list[str] = [
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280/od315_of_diluted_wines",
    "proline",
]

DERIVED_COLUMNS: list[str] = ["log_proline", "flavanoid_ratio"]

# Columns the model is trained on, in this order.
FEATURE_COLUMNS: list[str] = RAW_COLUMNS + DERIVED_COLUMNS


def add_features(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with the derived feature columns added."""
    out = df.copy()
    # proline spans hundreds to well over a thousand; the log tames its skew.
    out["log_proline"] = np.log1p(out["proline"])
    out["flavanoid_ratio"] = out["flavanoids"] / out["total_phenols"]
    return out
