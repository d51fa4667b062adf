"""The ``pipeline-ci`` command line. Thin: parse arguments, call the library, print, exit.

Exit codes (all commands): 0 success / no errors, 1 errors found, 2 usage or I/O error.
Heavy modules are imported inside the command that needs them, so ``lint`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline-ci", description="CI/CD for Clarifai and PAI pipeline projects.")
    parser.add_argument("--version", action="version", version=f"pipeline-ci {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="check pipeline projects (configs, Argo spec, cross-file references, lockfiles)")
    lint.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="files or folders (default: .)")
    lint.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    lint.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    lint.add_argument("--require-fresh-locks", action="store_true", default=None,
                      help="a step whose content hash differs from its lockfile is an error")
    lint.add_argument("--strict", action="store_true", default=None, help="unknown keys in the Argo spec are errors")
    lint.add_argument("--select", help="comma-separated rule IDs or names to run (default: all)")
    lint.add_argument("--config", type=Path,
                      help="settings file (default: .pipeline-ci.yaml or pyproject.toml, searched upwards)")

    hsh = sub.add_parser("hash", help="print the Clarifai content hash of step folders, like md5sum")
    hsh.add_argument("dirs", nargs="+", type=Path, metavar="STEP_DIR")
    hsh.add_argument("--tracked-only", action="store_true", help="hash only files git tracks or has staged")

    schema = sub.add_parser("schema", help="print a JSON Schema shipped with pipeline-ci")
    schema.add_argument("name", help="root-config, step-config, step-lock, root-lock or overrides")

    changed = sub.add_parser("changed", help="report the steps that changed and need a new version")
    changed.add_argument("paths", nargs="*", type=Path, default=[Path(".")])
    changed.add_argument("--base", help="git base ref (default: from the GitHub event, else the merge base)")
    changed.add_argument("--head", help="git head ref (default: HEAD)")
    changed.add_argument("--baseline", choices=("lock", "git", "both"), default="both",
                         help="what selects a step: lockfile hashes, git changes, or either (default)")
    changed.add_argument("--format", choices=("text", "json"), default="text")
    changed.add_argument("--explain", action="store_true", help="say why each step was or was not selected")

    upload = sub.add_parser("upload", help="upload the changed steps as new versions and pin them in the lockfiles")
    upload.add_argument("paths", nargs="*", type=Path, default=[Path(".")])
    upload.add_argument("--backend", choices=("local", "clarifai"), default="local")
    upload.add_argument("--dry-run", action="store_true", help="print the plan and the lockfile diff; change nothing")

    rules = sub.add_parser("rules", help="list the lint rules")
    rules.add_argument("--format", choices=("text", "markdown"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: say so briefly instead of a traceback
        if os.environ.get("PIPELINE_CI_DEBUG"):
            raise
        print(f"pipeline-ci: internal error: {type(exc).__name__}: {exc} (set PIPELINE_CI_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_USAGE


def _lint(args: argparse.Namespace) -> int:
    from .lint import UsageError, lint_paths
    from .report import render

    try:
        result = lint_paths(
            args.paths,
            config=args.config,
            require_fresh_locks=args.require_fresh_locks,
            strict=args.strict,
            select=args.select.split(",") if args.select else None,
        )
    except UsageError as exc:
        print(f"pipeline-ci: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = render(args.format, result)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"pipeline-ci: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        if args.format != "text":
            sys.stdout.write(render("text", result))
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if result.errors else EXIT_OK


def _hash(args: argparse.Namespace) -> int:
    from .hashing import HashError, hash_step

    status = EXIT_OK
    for folder in args.dirs:
        try:
            print(f"{hash_step(folder, tracked_only=args.tracked_only).digest}  {folder}")
        except HashError as exc:
            print(f"pipeline-ci: {exc}", file=sys.stderr)
            status = EXIT_USAGE
    return status


def _schema(args: argparse.Namespace) -> int:
    import json

    from . import schemas

    if args.name not in schemas.NAMES:
        print(f"pipeline-ci: unknown schema {args.name!r}; choose from {', '.join(schemas.NAMES)}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(schemas.load(args.name), indent=2))
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    from .rules import all_rules
    from .rules.examples import render_markdown

    if args.format == "markdown":
        sys.stdout.write(render_markdown())
    else:
        for rule in all_rules():
            summary = (rule.__doc__ or "").strip().splitlines()[0]
            print(f"{rule.ID}  {rule.NAME:<28} {rule.SEVERITY:<8} {summary}")
    return EXIT_OK


def _log(line: str) -> None:
    print(line, flush=True)


def _upload(args: argparse.Namespace) -> int:
    from .deploy import deploy_paths

    return deploy_paths(args.paths, args.backend, dry_run=args.dry_run, env=dict(os.environ), log=_log)


def _changed(args: argparse.Namespace) -> int:
    from .changed_cmd import run

    return run(args, os.environ, _log)


COMMANDS = {"lint": _lint, "hash": _hash, "schema": _schema, "rules": _rules, "changed": _changed,
            "upload": _upload}
