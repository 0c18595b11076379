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
try:
    import inflect  # only where the step's requirements installed it (the venv target)

    spelled = inflect.engine().number_to_words(count)
except ImportError:
    spelled = str(count)
summary = {
    "words": count,
    "spelled": spelled,
    "size": os.path.getsize(args.words),
    "python": sys.executable,
    "host": platform.node(),
}
print(json.dumps(summary))
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "summary.json"), "w") as handle:
    json.dump(summary, handle)
