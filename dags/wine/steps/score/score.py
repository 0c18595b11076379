"""Score unlabelled rows (with an id column) and write predictions.csv (id,prediction)."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys

import pandas as pd
from wine.features import RAW_COLUMNS, add_features


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="train output folder")
    parser.add_argument("--input", required=True, help="holdout CSV file (id + raw features)")
    parser.add_argument("--output", required=True, help="output folder")
    args = parser.parse_args(argv)

    model_file = os.path.join(args.model, "model.pkl")
    columns_file = os.path.join(args.model, "columns.json")
    for path in (args.input, model_file, columns_file):
        if not os.path.isfile(path):
            print(f"error: {path} not found", file=sys.stderr)
            return 1
    rows = pd.read_csv(args.input)
    missing = [c for c in ["id", *RAW_COLUMNS] if c not in rows.columns]
    if missing:
        print(f"error: {args.input} lacks columns: {', '.join(missing)}", file=sys.stderr)
        return 1
    if rows[RAW_COLUMNS].isna().any().any():
        print(f"error: {args.input} has missing feature values", file=sys.stderr)
        return 1

    with open(model_file, "rb") as f:
        model = pickle.load(f)
    with open(columns_file, encoding="utf-8") as f:
        columns: list[str] = json.load(f)
    # The model's columns.json decides what it sees, so an older model keeps working.
    features = add_features(rows)
    predictions = pd.DataFrame({"id": rows["id"], "prediction": model.predict(features[columns])})

    os.makedirs(args.output, exist_ok=True)
    predictions.to_csv(os.path.join(args.output, "predictions.csv"), index=False)
    counts = predictions["prediction"].value_counts().sort_index().to_dict()
    print(f"scored {len(predictions)} rows; predictions per class: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
