import argparse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    args = parser.parse_args()
    print(args.input_text.upper())


if __name__ == "__main__":
    main()
