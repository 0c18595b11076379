"""Count the words of a file; say which interpreter ran (the worker, a venv, a container)."""

import argparse
import json
import os
import platform
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--words")
parser.add_argument("--output")
args = parser.parse_args()

with open(args.words) as handle:
    count = len(handle.read().split())
size = os.path.getsize(args.words)
try:
    import humanize

    pretty = humanize.naturalsize(size)
except ImportError:
    pretty = f"{size} bytes"
summary = {"words": count, "size": pretty, "python": sys.executable, "host": platform.node()}
print(json.dumps(summary))
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "summary.json"), "w") as handle:
    json.dump(summary, handle)
