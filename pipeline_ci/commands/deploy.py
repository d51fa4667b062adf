"""``pipeline-ci deploy PATH --backend B [--run]``: ``upload`` the project, then with ``--run`` run it and gate on
the run (the run flags are ``run``'s). A failed upload stops before any run.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from ..runs.session import RunFlags
from . import Env, Out, upload
from . import run as run_command


@dataclass(frozen=True)
class Options:
    path: Path
    backend: str
    run: RunFlags | None = None  # --run: the run to start after the upload

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        flags = RunFlags.from_args(args)
        if not args.run and (given := _run_flags_given(flags)):  # nothing silent: they would be ignored
            raise UsageError(f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} with --run",
                             hint="add --run to run the pipeline after deploying, or leave them out")
        return cls(args.path, args.backend, flags if args.run else None)


def _run_flags_given(flags: RunFlags) -> list[str]:
    """The run flags set to something else than their default (``--set``, ``--timeout`` ...)."""
    given = []
    for field in dataclasses.fields(RunFlags):
        value = getattr(flags, field.name)
        if field.name not in ("backend", "path") and value != field.default and (value or field.default):
            given.append("--" + {"set_args": "set"}.get(field.name, field.name).replace("_", "-"))
    return given


def run(options: Options, env: Env, out: Out) -> int:
    if options.run is not None:  # bad run parameters are a usage error before anything is uploaded
        from ..runs.session import parameters, project_root, validate_for_project

        validate_for_project(project_root(options.path), parameters(options.run))
    status = upload.run(upload.Options((options.path,), options.backend), env, out)
    if status != ExitCode.OK or options.run is None:
        return status
    return run_command.run(run_command.Options(options.run), env, out)
