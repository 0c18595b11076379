import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("train")
parser.add_argument("--arg1", type=str, help="sample datapath argument")
parser.add_argument("--arg2", type=str, help="sample string argument")
args = parser.parse_args()

print(f"Sample datapath argument: {args.arg1}")
print(f"Sample string argument: {args.arg2}")
files = sorted(os.listdir(args.arg1))
print(f"Files in the folder: {files}")

run = Run.get_context()
run.log("files", len(files))
with open(os.path.join(args.arg1, files[0])) as first:
    run.tag("first_word", first.read().strip())
