"""Validate the raw wine CSV and write a de-duplicated copy as data.csv."""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd
from wine.features import RAW_COLUMNS, TARGET

REQUIRED_COLUMNS = [*RAW_COLUMNS, TARGET]


def validate(df: pd.DataFrame) -> list[str]:
    """Return a list of problems with ``df``; empty when it is usable."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        return [f"missing required columns: {', '.join(missing)}"]
    problems = []
    if df.empty:
        problems.append("no data rows")
    non_numeric = [c for c in REQUIRED_COLUMNS if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        problems.append(f"non-numeric values in columns: {', '.join(non_numeric)}")
    nan_counts = df[REQUIRED_COLUMNS].isna().sum()
    for column, count in nan_counts[nan_counts > 0].items():
        problems.append(f"column {column!r} has {count} missing value(s)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", required=True, help="raw CSV file")
    parser.add_argument("--output", required=True, help="output folder")
    args = parser.parse_args(argv)

    if not os.path.isfile(args.raw):
        print(f"error: raw file not found: {args.raw}", file=sys.stderr)
        return 1
    df = pd.read_csv(args.raw)
    problems = validate(df)
    if problems:
        print(f"error: invalid input {args.raw}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1

    clean = df[REQUIRED_COLUMNS].drop_duplicates()
    os.makedirs(args.output, exist_ok=True)
    clean.to_csv(os.path.join(args.output, "data.csv"), index=False)
    print(f"ingested {len(clean)} rows ({len(df) - len(clean)} duplicates dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
