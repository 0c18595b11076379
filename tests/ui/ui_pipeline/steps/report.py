"""Writes a JSON summary of the table and the model."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--table")
parser.add_argument("--model")
parser.add_argument("--out")
args = parser.parse_args()
with open(os.path.join(args.model, "model.json")) as model:
    fitted = json.load(model)
with open(os.path.join(args.table, "table.csv")) as table:
    rows = sum(1 for _ in table) - 1
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "summary.json"), "w") as summary:
    json.dump({"rows": rows, "model": fitted}, summary)
