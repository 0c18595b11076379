import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("calculate")
parser.add_argument("--arg1", type=int)
parser.add_argument("--arg2", type=int)
parser.add_argument("--output_sum", type=str)
args = parser.parse_args()

total = args.arg1 + args.arg2
os.makedirs(args.output_sum, exist_ok=True)
with open(os.path.join(args.output_sum, "sum.txt"), "w") as f:
    f.write(str(total))
Run.get_context().log("sum", total)
