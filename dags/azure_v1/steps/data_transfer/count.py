import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("count")
parser.add_argument("--stores", type=str, help="folder holding the copied stores.csv")
parser.add_argument("--report", type=str, help="output directory")
args = parser.parse_args()

with open(os.path.join(args.stores, "stores.csv")) as f:
    stores = f.read().splitlines()[1:]
os.makedirs(args.report, exist_ok=True)
with open(os.path.join(args.report, "stores.txt"), "w") as f:
    f.write(f"{len(stores)} stores\n")
Run.get_context().log("stores", len(stores))
