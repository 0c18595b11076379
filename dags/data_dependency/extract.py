"""Count words in processed.txt and write them as "word<TAB>count", most frequent first."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_extract", required=True, help="folder holding processed.txt")
    parser.add_argument("--output_extract", required=True, help="output folder")
    args = parser.parse_args(argv)

    source = os.path.join(args.input_extract, "processed.txt")
    if not os.path.isfile(source):
        print(f"error: {source} not found (run train.py first)", file=sys.stderr)
        return 1
    with open(source, encoding="utf-8") as f:
        counts = Counter(word for line in f for word in line.split())

    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    os.makedirs(args.output_extract, exist_ok=True)
    with open(os.path.join(args.output_extract, "words.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{word}\t{count}\n" for word, count in ranked)
    print(f"counted {len(ranked)} distinct words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
