"""Combine the outputs of train.py and extract.py into comparison.json."""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare_data1", required=True, help="train.py output folder")
    parser.add_argument("--compare_data2", required=True, help="extract.py output folder")
    parser.add_argument("--output_compare", required=True, help="output folder")
    parser.add_argument("--pipeline_param", required=True, help="number of top words to keep")
    args = parser.parse_args(argv)

    try:
        top_k = int(args.pipeline_param)
    except ValueError:
        print(
            f"error: --pipeline_param must be an integer, got {args.pipeline_param!r}",
            file=sys.stderr,
        )
        return 1
    if top_k < 0:
        print(f"error: --pipeline_param must be >= 0, got {top_k}", file=sys.stderr)
        return 1

    processed = os.path.join(args.compare_data1, "processed.txt")
    words_file = os.path.join(args.compare_data2, "words.txt")
    for path in (processed, words_file):
        if not os.path.isfile(path):
            print(f"error: {path} not found", file=sys.stderr)
            return 1

    with open(processed, encoding="utf-8") as f:
        n_lines = sum(1 for _ in f)
    with open(words_file, encoding="utf-8") as f:
        words = [line.split("\t", 1)[0] for line in f if line.strip()]

    result = {
        "lines": n_lines,
        "distinct_words": len(words),
        "top_words": words[:top_k],
        "pipeline_param": str(args.pipeline_param),
    }
    os.makedirs(args.output_compare, exist_ok=True)
    with open(os.path.join(args.output_compare, "comparison.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
    print(f"lines={n_lines} distinct_words={len(words)} top_words={words[:top_k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
