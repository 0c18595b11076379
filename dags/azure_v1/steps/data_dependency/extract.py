import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser("extract")
parser.add_argument("--input_extract", type=str, help="input_extract data")
parser.add_argument("--output_extract", type=str, help="output_extract directory")
args = parser.parse_args()

with open(os.path.join(args.input_extract, "processed.txt")) as f:
    words = sorted({word for line in f for word in line.split() if word.isalpha()})
os.makedirs(args.output_extract, exist_ok=True)
with open(os.path.join(args.output_extract, "words.txt"), "w") as f:
    f.writelines(word + "\n" for word in words)
Run.get_context().log("distinct_words", len(words))
