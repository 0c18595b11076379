"""Adds a number to an earlier sum (0 when no earlier sum is given) and writes the total."""

import argparse
import os

parser = argparse.ArgumentParser("add")
parser.add_argument("--earlier", help="folder holding an earlier sum.txt")
parser.add_argument("--number", type=int, required=True)
parser.add_argument("--total", required=True, help="folder to write sum.txt to")
args = parser.parse_args()

earlier = 0
if args.earlier:
    with open(os.path.join(args.earlier, "sum.txt")) as f:
        earlier = int(f.read())
os.makedirs(args.total, exist_ok=True)
with open(os.path.join(args.total, "sum.txt"), "w") as f:
    f.write(str(earlier + args.number))
