"""Add derived features to data.csv and split it into train.csv and test.csv."""

from __future__ import annotations

import argparse
import json
import os
import sys

import pandas as pd
from sklearn.model_selection import train_test_split
from wine.features import FEATURE_COLUMNS, TARGET, add_features


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", required=True, help="ingest output folder (data.csv)")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--test-size", type=float, default=0.25, help="test fraction (0, 1)")
    args = parser.parse_args(argv)

    if not 0.0 < args.test_size < 1.0:
        print(f"error: --test-size must be between 0 and 1, got {args.test_size}", file=sys.stderr)
        return 1
    source = os.path.join(args.input, "data.csv")
    if not os.path.isfile(source):
        print(f"error: {source} not found (run the ingest step first)", file=sys.stderr)
        return 1

    df = add_features(pd.read_csv(source))[[*FEATURE_COLUMNS, TARGET]]
    try:
        train, test = train_test_split(
            df, test_size=args.test_size, random_state=0, stratify=df[TARGET]
        )
    except ValueError as exc:
        print(f"error: cannot split {source}: {exc}", file=sys.stderr)
        return 1

    os.makedirs(args.output, exist_ok=True)
    train.to_csv(os.path.join(args.output, "train.csv"), index=False)
    test.to_csv(os.path.join(args.output, "test.csv"), index=False)
    with open(os.path.join(args.output, "columns.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(FEATURE_COLUMNS, indent=2) + "\n")
    print(f"train={len(train)} test={len(test)} features={len(FEATURE_COLUMNS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
