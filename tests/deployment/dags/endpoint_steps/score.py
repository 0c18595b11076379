import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int)
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "scores.txt"), "w") as handle:
    handle.write("score\n" * args.rows)
