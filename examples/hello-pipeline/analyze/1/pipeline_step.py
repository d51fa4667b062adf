"""analyze: count word or letter frequencies and keep the top N as JSON [[item, count], ...]."""

import argparse
import json
import os
import re
import tempfile
from collections import Counter

RESULT_FILE = os.path.join(tempfile.gettempdir(), "result")
WORD = re.compile(r"\w+(?:'\w+)*")


def top_items(text: str, mode: str, top_n: int) -> list[list]:
    text = text.lower()
    items = WORD.findall(text) if mode == "words" else [c for c in text if c.isalpha()]
    ranked = sorted(Counter(items).items(), key=lambda kv: (-kv[1], kv[0]))
    return [[item, count] for item, count in ranked[:top_n]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text", required=True, help="normalised text to analyse")
    parser.add_argument("--mode", choices=["words", "chars"], default="words", help="what to count")
    parser.add_argument("--top_n", default="3", help="how many items to keep (positive integer)")
    args = parser.parse_args()

    try:
        top_n = int(args.top_n)
    except ValueError:
        top_n = 0
    if top_n < 1:
        parser.error(f"--top_n must be a positive integer, got {args.top_n!r}")
    if not args.text.strip():
        parser.error("--text is empty")

    top = top_items(args.text, args.mode, top_n)
    if not top:
        parser.error(f"--text contains no {'words' if args.mode == 'words' else 'letters'} to count")
    print(f"analyze[{args.mode}]: top {len(top)}: " + ", ".join(f"{k}={v}" for k, v in top))

    with open(RESULT_FILE, "w", encoding="utf-8") as fh:
        json.dump(top, fh, ensure_ascii=False)
    print(f"analyze[{args.mode}]: wrote result to {RESULT_FILE}")


if __name__ == "__main__":
    main()
