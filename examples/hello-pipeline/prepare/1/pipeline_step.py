"""prepare: normalise free text (collapse whitespace, lower-case) for the analysis steps."""

import argparse
import os
import tempfile

RESULT_FILE = os.path.join(tempfile.gettempdir(), "result")


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_text", required=True, help="free text to normalise")
    args = parser.parse_args()

    text = normalise(args.input_text)
    if not text:
        parser.error("--input_text is empty or only whitespace")
    print(f"prepare: {len(args.input_text)} chars in, {len(text)} chars out")

    with open(RESULT_FILE, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"prepare: wrote result to {RESULT_FILE}")


if __name__ == "__main__":
    main()
