"""report: combine the word and letter rankings into a readable report and a JSON summary."""

import argparse
import json
import os
import sys
import tempfile

RESULT_FILE = os.path.join(tempfile.gettempdir(), "result")


def parse_ranking(parser: argparse.ArgumentParser, name: str, raw: str) -> list[list]:
    """Parse and check a JSON ranking [[item, count], ...]; exit via parser.error if malformed."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        parser.error(f"--{name} is not valid JSON: {exc}")
    ok = isinstance(data, list) and all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int) for p in data
    )
    if not ok or not data:
        parser.error(f"--{name} must be a non-empty JSON list of [item, count] pairs")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", required=True, help="top words as JSON [[word, count], ...]")
    parser.add_argument("--chars", required=True, help="top letters as JSON [[letter, count], ...]")
    args = parser.parse_args()

    if not os.environ.get("REPORT_TOKEN"):
        print("report: error: environment variable REPORT_TOKEN is not set", file=sys.stderr)
        sys.exit(2)
    print("report: REPORT_TOKEN is set")

    words = parse_ranking(parser, "words", args.words)
    chars = parse_ranking(parser, "chars", args.chars)
    print("=== hello-pipeline report ===")
    print("top words:   " + ", ".join(f"{w} ({n})" for w, n in words))
    print("top letters: " + ", ".join(f"{c} ({n})" for c, n in chars))

    summary = {"top_word": words[0][0], "top_letter": chars[0][0], "words": words, "chars": chars}
    with open(RESULT_FILE, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, ensure_ascii=False, sort_keys=True)
    print(f"report: wrote summary to {RESULT_FILE}")


if __name__ == "__main__":
    main()
