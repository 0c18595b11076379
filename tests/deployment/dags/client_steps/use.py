import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--made")
parser.add_argument("--out")
args = parser.parse_args()
with open(os.path.join(args.made, "greeting.txt")) as handle:
    greeting = handle.read()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "shout.txt"), "w") as handle:
    handle.write(greeting.upper())
