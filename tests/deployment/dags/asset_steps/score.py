import argparse
import os
from urllib.parse import urlsplit

parser = argparse.ArgumentParser()
parser.add_argument("--model-uri")
parser.add_argument("--out")
args = parser.parse_args()
with open(os.path.join(urlsplit(args.model_uri).path, "weights.txt")) as handle:
    weights = handle.read()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "scores.txt"), "w") as handle:
    handle.write(f"{args.model_uri}\n{weights}")
