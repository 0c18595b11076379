import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("train")
parser.add_argument("--input_data", type=str, help="input data")
parser.add_argument("--output_train", type=str, help="output_train directory")
args = parser.parse_args()

with open(args.input_data) as f:
    lines = [" ".join(line.lower().split()) for line in f if line.strip()]
os.makedirs(args.output_train, exist_ok=True)
with open(os.path.join(args.output_train, "processed.txt"), "w") as f:
    f.writelines(line + "\n" for line in lines)
Run.get_context().log("lines", len(lines))
