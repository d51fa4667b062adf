"""``pipeline-ci deploy PATH --backend B [--run] [--dry-run]``: ``upload`` the project, then with ``--run`` run it and
gate on the run (the run flags are ``run``'s). A failed upload stops before any run. ``--dry-run`` is the upload's
plan (exactly what ``upload --dry-run`` prints) and, with ``--run``, the run parameters checked and the run that would
then start; nothing is uploaded, started or created.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from ..runs.session import RunFlags, check_applies, flag_name, given_flags
from . import Env, Out, upload
from . import run as run_command


@dataclass(frozen=True)
class Options:
    path: Path
    backend: str
    run: RunFlags | None = None  # --run: the run to start after the upload
    dry_run: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        flags = dataclasses.replace(RunFlags.from_args(args), dry_run=False)  # deploy's --dry-run is its own
        if not args.run and (given := [flag_name(f) for f in given_flags(flags)]):  # nothing silent
            raise UsageError(f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} with --run",
                             hint="add --run to run the pipeline after deploying, or leave them out")
        if args.run:
            check_applies(flags)
        return cls(args.path, args.backend, flags if args.run else None, args.dry_run)


def run(options: Options, env: Env, out: Out) -> int:
    values: dict[str, str] = {}
    if options.run is not None:  # bad run parameters are a usage error before anything is uploaded
        from ..runs.session import parameters, project_root, validate_for_project

        values = parameters(options.run)
        validate_for_project(project_root(options.path), values)
    status = upload.run(upload.Options((options.path,), options.backend, options.dry_run), env, out)
    if status != ExitCode.OK or options.run is None:
        return status
    if options.dry_run:
        shown = ", ".join(f"{k}={v}" for k, v in values.items()) or "the spec's defaults"
        out(f"pipeline-ci: dry run: would then run the uploaded version on {options.run.backend} with parameters "
            f"{shown}; nothing was uploaded, started or created")
        return ExitCode.OK
    return run_command.run(run_command.Options(options.run), env, out)
