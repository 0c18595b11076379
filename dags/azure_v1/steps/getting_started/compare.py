import argparse
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser("compare")
parser.add_argument("--compare_data1", type=str, help="compare_data1 data")
parser.add_argument("--output_compare", type=str, help="output_compare directory")
args = parser.parse_args()

print(f"Argument 1: {args.compare_data1}")
print(f"Argument 2: {args.output_compare}")

with open(args.compare_data1) as f:
    lines = [line for line in f if line.strip()]
os.makedirs(args.output_compare, exist_ok=True)
with open(os.path.join(args.output_compare, "summary.json"), "w") as f:
    json.dump({"lines": len(lines), "words": sum(len(line.split()) for line in lines)}, f)

run = Run.get_context()
run.log("lines", len(lines))
run.complete()
