"""All targets counted the same words."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--output")
parser.add_argument("--summaries", nargs="+")
args = parser.parse_args()

summaries = []
for folder in args.summaries:
    with open(os.path.join(folder, "summary.json")) as handle:
        summaries.append(json.load(handle))
counts = {summary["words"] for summary in summaries}
if len(counts) != 1:
    raise SystemExit(f"targets disagree: {summaries}")
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "report.json"), "w") as handle:
    json.dump(summaries, handle, indent=2)
print(f"{len(summaries)} targets agree: {counts.pop()} words")
