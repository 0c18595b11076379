import argparse
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser("compare")
parser.add_argument("--compare_data1", type=str, help="compare_data1 data")
parser.add_argument("--compare_data2", type=str, help="compare_data2 data")
parser.add_argument("--output_compare", type=str, help="output_compare directory")
parser.add_argument("--pipeline_param", type=int, help="pipeline parameter")
args = parser.parse_args()

with open(os.path.join(args.compare_data1, "processed.txt")) as f:
    lines = f.read().splitlines()
with open(os.path.join(args.compare_data2, "words.txt")) as f:
    words = f.read().splitlines()
os.makedirs(args.output_compare, exist_ok=True)
with open(os.path.join(args.output_compare, "comparison.json"), "w") as f:
    json.dump({"lines": len(lines), "distinct_words": len(words), "pipeline_param": args.pipeline_param}, f)
run = Run.get_context()
run.log("pipeline_param", args.pipeline_param)
run.parent.log("compared_lines", len(lines))
