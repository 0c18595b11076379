import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("count_words")
parser.add_argument("--input", type=str)
parser.add_argument("--output", type=str)
args = parser.parse_args()

with open(args.input) as f:
    words = sum(len(line.split()) for line in f)
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "words.txt"), "w") as f:
    f.write(str(words))
Run.get_context().log("words", words)
