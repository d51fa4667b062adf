"""``pipeline-ci deploy PATH --backend B [--run]``: ``upload`` the project, then with ``--run`` run it and gate on
the run (the run flags are ``run``'s). A failed upload stops before any run.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

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
        return cls(args.path, args.backend, RunFlags.from_args(args) if args.run else None)


def run(options: Options, env: Env, out: Out) -> int:
    status = upload.run(upload.Options((options.path,), options.backend), env, out)
    if status != ExitCode.OK or options.run is None:
        return status
    return run_command.run(run_command.Options(options.run), env, out)
