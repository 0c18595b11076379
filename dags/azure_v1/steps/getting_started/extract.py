import argparse
import collections
import os

from azureml.core import Run

parser = argparse.ArgumentParser("extract")
parser.add_argument("--extract_data", type=str, help="data to extract from")
parser.add_argument("--output_extract", type=str, help="output_extract directory")
args = parser.parse_args()

with open(args.extract_data) as f:
    words = collections.Counter(word.lower() for line in f for word in line.split() if word.isalpha())
os.makedirs(args.output_extract, exist_ok=True)
with open(os.path.join(args.output_extract, "top_words.txt"), "w") as f:
    for word, count in words.most_common(10):
        f.write(f"{word} {count}\n")

run = Run.get_context()
run.log_list("top_counts", [count for _, count in words.most_common(3)])
