"""The ``pipeline-ci`` command line: parse the arguments, build the command's options, run the command
(:mod:`pipeline_ci.commands`) inside the error handler (:mod:`pipeline_ci.error_handler`), exit.

Exit codes: :class:`~pipeline_ci.exitcodes.ExitCode` (the README's table). Heavy modules are imported inside the
command that needs them, so ``lint`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from . import __version__


class _Backends:
    """The ``--backend`` choices of a command: the platforms with ``capability`` in the registry
    (:func:`pipeline_ci.platforms.names`), read when argparse first needs them (checking a value, ``--help``), so
    ``lint`` never imports the registry. The arguments using it have a ``metavar``: argparse would read the choices
    to build one when the argument is added."""

    def __init__(self, capability: str):
        self.capability = capability

    def _names(self) -> tuple[str, ...]:
        from .platforms import names

        return names(self.capability)

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __getitem__(self, index: int) -> str:
        return self._names()[index]


def _parser() -> argparse.ArgumentParser:
    """The whole command line; every ``--backend`` choice comes from the platform registry."""
    parser = argparse.ArgumentParser(prog="pipeline-ci", description="CI/CD for Clarifai and PAI pipeline projects.")
    parser.add_argument("--version", action="version", version=f"pipeline-ci {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="check pipeline projects (configs, Argo spec, cross-file references, lockfiles)")
    lint.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="files or folders (default: .)")
    lint.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    lint.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    lint.add_argument("--sarif-file", type=Path, metavar="PATH",
                      help="also write a SARIF report here, whatever --format is (in Actions: output sarif-file)")
    lint.add_argument("--require-fresh-locks", action="store_true", default=None,
                      help="a step whose content hash differs from its lockfile is an error")
    lint.add_argument("--strict", action="store_true", default=None, help="unknown keys in the Argo spec are errors")
    lint.add_argument("--select", help="comma-separated rule IDs or names to run (default: all)")
    lint.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
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
    upload.add_argument("--backend", choices=_Backends("upload"), default="local", metavar="BACKEND",
                        help="%(choices)s (default: %(default)s)")
    upload.add_argument("--dry-run", action="store_true", help="print the plan and the lockfile diff; change nothing")

    run_flags = argparse.ArgumentParser(add_help=False)
    run_flags.add_argument("--overrides-file", type=Path, help="workflow parameters, JSON or YAML (a flat mapping)")
    run_flags.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                           help="a parameter (wins over the file)")
    run_flags.add_argument("--timeout", type=float,
                           help="seconds to wait for the final status (remote default 3600; local default: "
                                "setting local.timeout, 3600)")
    run_flags.add_argument("--max-interval", type=float, default=30.0, help="longest pause between status polls")
    run_flags.add_argument("--paused-grace", type=float, default=600.0, help="seconds a paused run may stay paused")
    run_flags.add_argument("--no-wait", action="store_true", help="start the run, print its id and URL, exit 0")
    run_flags.add_argument("--state-file", type=Path, help="where the run id is saved for `pipeline-ci cancel`")
    run_flags.add_argument("--run-id", help="the run id to use (Clarifai: client-generated by default)")
    for flag in ("user-id", "app-id", "pipeline-id", "pipeline-version-id", "compute-cluster-id", "nodepool-id",
                 "workspace-id", "region", "endpoint"):
        run_flags.add_argument(f"--{flag}")
    run_flags.add_argument("--manifest", type=Path, help="PAI: a pipeline manifest to run instead of --pipeline-id")
    run_flags.add_argument("--parallelism", type=int, help="local: concurrent steps (default: CPU count)")
    run_flags.add_argument("--isolation", choices=("auto", "venv", "none"), default="auto",
                           help="local: one virtualenv per requirements set, or the current environment")
    run_flags.add_argument("--secrets-file", type=Path, help="local: KEY=VALUE file with step secrets")

    run = sub.add_parser("run", parents=[run_flags], help="start a pipeline run, follow it and gate on its status")
    run.add_argument("path", nargs="?", type=Path, help="the pipeline project (default: found from the cwd)")
    run.add_argument("--backend", choices=_Backends("run"), default="local", metavar="BACKEND",
                     help="%(choices)s (default: %(default)s)")

    deploy = sub.add_parser("deploy", parents=[run_flags], help="lint, upload changed steps, pin them; --run to run")
    deploy.add_argument("path", type=Path)
    deploy.add_argument("--backend", choices=_Backends("upload"), default="local", metavar="BACKEND",
                        help="%(choices)s: where to upload (with --run, also where to run; default: %(default)s)")
    deploy.add_argument("--run", action="store_true", help="run the pipeline after deploying and gate on it")

    watch = sub.add_parser("watch", parents=[run_flags], help="follow an existing run with the same gating")
    watch.add_argument("run_id_arg", metavar="RUN_ID")
    watch.add_argument("--backend", choices=_Backends("attach"), default="clarifai", metavar="BACKEND",
                       help="%(choices)s (default: %(default)s)")
    watch.add_argument("--path", type=Path, help="the pipeline project whose lockfile holds the ids")

    cancel = sub.add_parser("cancel", parents=[run_flags], help="cancel a run (default: the one in the state file)")
    cancel.add_argument("run_id_arg", metavar="RUN_ID", nargs="?")
    cancel.add_argument("--backend", choices=_Backends("attach"), default="clarifai", metavar="BACKEND",
                        help="%(choices)s (default: %(default)s)")
    cancel.add_argument("--path", type=Path, help="the pipeline project whose lockfile holds the ids")

    rules = sub.add_parser("rules", help="list the lint rules")
    rules.add_argument("--format", choices=("text", "markdown"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import commands
    from .error_handler import run_command

    if args.command in commands.REMOTE:
        from .github import mask_credentials

        mask_credentials(os.environ)

    def command() -> int:
        module = commands.load(args.command)
        return int(module.run(module.Options.from_args(args), os.environ, _log))

    return run_command(command, argv=sys.argv[1:] if argv is None else argv, env=os.environ, say=_err)


def _log(line: str) -> None:
    """The writer of every command's progress and results: one line, made safe (see :mod:`.textsafe`)."""
    from .textsafe import print_line

    print_line(line)


def _err(line: str) -> None:
    """The writer of error messages (stderr), made safe like :func:`_log`."""
    from .textsafe import print_line

    print_line(line, sys.stderr)
