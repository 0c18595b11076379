import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("train")
parser.add_argument("--input_data", type=str)
parser.add_argument("--output_train", type=str)
parser.add_argument("--pipeline_param", type=int)
args = parser.parse_args()

with open(args.input_data) as f:
    lines = [line for line in f if line.strip()][: args.pipeline_param]
os.makedirs(args.output_train, exist_ok=True)
with open(os.path.join(args.output_train, "head.txt"), "w") as f:
    f.writelines(lines)
Run.get_context().log("kept_lines", len(lines))
