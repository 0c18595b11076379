"""Normalise a raw text file: lowercase, keep word tokens, one line per input line."""

from __future__ import annotations

import argparse
import os
import re
import sys

TOKEN_RE = re.compile(r"[a-z0-9']+")


def normalise(line: str) -> str:
    return " ".join(TOKEN_RE.findall(line.lower()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_data", required=True, help="raw text file")
    parser.add_argument("--output_train", required=True, help="output folder")
    args = parser.parse_args(argv)

    if not os.path.isfile(args.input_data):
        print(f"error: input file not found: {args.input_data}", file=sys.stderr)
        return 1
    with open(args.input_data, encoding="utf-8") as f:
        lines = [normalise(line) for line in f if line.strip()]
    if not lines:
        print(f"error: input file has no text: {args.input_data}", file=sys.stderr)
        return 1

    os.makedirs(args.output_train, exist_ok=True)
    with open(os.path.join(args.output_train, "processed.txt"), "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    print(f"processed {len(lines)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
