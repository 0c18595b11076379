"""What a model output holds: its files and sizes, as report.json."""

import argparse
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

parser = argparse.ArgumentParser()
parser.add_argument("--model-uri")
parser.add_argument("--output")
args = parser.parse_args()

if not args.model_uri:
    raise SystemExit("no model_uri: this pipeline runs on wine_classifier's model events")
parts = urlsplit(args.model_uri)
if parts.scheme not in ("", "file"):
    raise SystemExit(f"{args.model_uri}: this example reads models on local datastores only")
model = Path(parts.path)
files = {p.relative_to(model).as_posix(): p.stat().st_size for p in sorted(model.rglob("*")) if p.is_file()}
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "report.json"), "w") as handle:
    json.dump({"model": args.model_uri, "files": files}, handle, indent=2)
print(f"model {args.model_uri}: {len(files)} file(s), {sum(files.values())} bytes")
