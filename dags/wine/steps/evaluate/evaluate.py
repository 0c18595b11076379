"""Evaluate model.pkl on test.csv and write metrics.json."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

TARGET = "target"


def log_to_mlflow(metrics: dict[str, float]) -> None:
    """Log with plain mlflow when the step runs tracked (the run is set up through the env)."""
    if not os.environ.get("MLFLOW_RUN_ID"):
        return
    import mlflow

    with mlflow.start_run():  # resumes the step's run named by MLFLOW_RUN_ID
        mlflow.log_metrics(metrics)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="featurize output folder (test.csv)")
    parser.add_argument("--model", required=True, help="train output folder")
    parser.add_argument("--output", required=True, help="output folder")
    args = parser.parse_args(argv)

    test_file = os.path.join(args.data, "test.csv")
    model_file = os.path.join(args.model, "model.pkl")
    columns_file = os.path.join(args.model, "columns.json")
    for path in (test_file, model_file, columns_file):
        if not os.path.isfile(path):
            print(f"error: {path} not found", file=sys.stderr)
            return 1
    with open(model_file, "rb") as f:
        model = pickle.load(f)
    with open(columns_file, encoding="utf-8") as f:
        columns: list[str] = json.load(f)
    test = pd.read_csv(test_file)
    missing = [c for c in [*columns, TARGET] if c not in test.columns]
    if missing:
        print(f"error: {test_file} lacks columns: {', '.join(missing)}", file=sys.stderr)
        return 1

    predicted = model.predict(test[columns])
    metrics = {
        "accuracy": round(float(accuracy_score(test[TARGET], predicted)), 6),
        "f1_macro": round(float(f1_score(test[TARGET], predicted, average="macro")), 6),
        "n_test": len(test),
    }
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "metrics.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(metrics, sort_keys=True, indent=2) + "\n")
    log_to_mlflow({"test_accuracy": metrics["accuracy"], "test_f1_macro": metrics["f1_macro"]})
    print(f"accuracy={metrics['accuracy']} f1_macro={metrics['f1_macro']} n_test={len(test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
