"""Rows and columns of each CSV file under the changed path, as profile.json."""

import argparse
import csv
import json
import os
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--landing", help="the landing folder, mounted")
parser.add_argument("--changed", help="the changed file or folder, on the datastore")
parser.add_argument("--output")
args = parser.parse_args()

changed = Path(args.landing) / os.path.relpath(args.changed, "landing")
files = [changed] if changed.is_file() else sorted(changed.rglob("*.csv"))
profile = {}
for path in files:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    profile[path.relative_to(args.landing).as_posix()] = {
        "rows": max(0, len(rows) - 1),
        "columns": rows[0] if rows else [],
    }
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "profile.json"), "w") as handle:
    json.dump({"changed": args.changed, "files": profile}, handle, indent=2)
print(f"profiled {len(profile)} file(s) under {args.changed}")
