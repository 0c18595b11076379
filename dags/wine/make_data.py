"""Write the sample wine data: wine.csv (labelled, ~80%) and holdout.csv (unlabelled, ~20%)."""

from __future__ import annotations

import argparse
import os
import sys

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", required=True, help="output folder")
    args = parser.parse_args(argv)

    frame = load_wine(as_frame=True).frame  # feature columns + "target"
    labelled, holdout = train_test_split(
        frame, test_size=0.2, random_state=0, stratify=frame["target"]
    )
    labelled = labelled.sort_index()
    holdout = holdout.sort_index().drop(columns="target")
    holdout.insert(0, "id", holdout.index)

    os.makedirs(args.output, exist_ok=True)
    labelled.to_csv(os.path.join(args.output, "wine.csv"), index=False)
    holdout.to_csv(os.path.join(args.output, "holdout.csv"), index=False)
    print(f"wrote {len(labelled)} labelled rows and {len(holdout)} holdout rows to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
