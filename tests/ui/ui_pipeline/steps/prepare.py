"""Keeps the first columns of the wine rows as a small table."""

import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--raw")
parser.add_argument("--out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
with open(args.raw) as source, open(os.path.join(args.out, "table.csv"), "w", newline="") as target:
    writer = csv.writer(target)
    for row in csv.reader(source):
        writer.writerow(row[:4])
