import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--path")
parser.add_argument("--landing")
parser.add_argument("--out")
args = parser.parse_args()
# The changed path is on the datastore; the watched folder is mounted as --landing.
relative = os.path.relpath(args.path, "incoming")
with open(os.path.join(args.landing, relative)) as handle:
    content = handle.read()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "seen.txt"), "w") as handle:
    handle.write(f"{args.path}\n{content}")
