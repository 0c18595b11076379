"""Train a scaled logistic regression on train.csv and pickle it as model.pkl."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

TARGET = "target"


def log_to_mlflow(model: Pipeline, metrics: dict[str, float]) -> None:
    """Log with plain mlflow when the step runs tracked (the run is set up through the env)."""
    if not os.environ.get("MLFLOW_RUN_ID"):
        return
    import mlflow
    import mlflow.sklearn

    with mlflow.start_run():  # resumes the step's run named by MLFLOW_RUN_ID
        mlflow.log_metrics(metrics)
        mlflow.sklearn.log_model(model, name="model")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="featurize output folder")
    parser.add_argument("--model", required=True, help="output folder for the model")
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--max-iter", type=int, default=1000, help="solver iteration limit")
    args = parser.parse_args(argv)

    if args.C <= 0:
        print(f"error: --C must be positive, got {args.C}", file=sys.stderr)
        return 1
    train_file = os.path.join(args.data, "train.csv")
    columns_file = os.path.join(args.data, "columns.json")
    for path in (train_file, columns_file):
        if not os.path.isfile(path):
            print(f"error: {path} not found (run the featurize step first)", file=sys.stderr)
            return 1
    with open(columns_file, encoding="utf-8") as f:
        columns: list[str] = json.load(f)
    train = pd.read_csv(train_file)
    missing = [c for c in [*columns, TARGET] if c not in train.columns]
    if missing:
        print(f"error: {train_file} lacks columns: {', '.join(missing)}", file=sys.stderr)
        return 1

    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(C=args.C, max_iter=args.max_iter, random_state=0)),
        ]
    )
    model.fit(train[columns], train[TARGET])
    accuracy = float(model.score(train[columns], train[TARGET]))

    os.makedirs(args.model, exist_ok=True)
    with open(os.path.join(args.model, "model.pkl"), "wb") as f:
        pickle.dump(model, f, protocol=5)
    shutil.copyfile(columns_file, os.path.join(args.model, "columns.json"))
    log_to_mlflow(model, {"train_accuracy": accuracy})
    print(f"trained on {len(train)} rows, C={args.C}, train accuracy={accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
