import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--size", type=int)
parser.add_argument("--model")
args = parser.parse_args()
with open(args.data) as handle:
    rows = handle.read().splitlines()
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "weights.txt"), "w") as handle:
    handle.write(f"{len(rows)} rows, size {args.size}\n")
