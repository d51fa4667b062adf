"""``pipeline-ci watch RUN_ID --backend B``: follow an existing remote run with the same gating as ``run``.

The run was not started by this process: an internal error leaves it running (it is never cancelled but on
SIGINT/SIGTERM, like ``run``).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

from ..runs.session import RunFlags, cancel_on_signals, existing_run, follow_and_report
from . import Env, Out


@dataclass(frozen=True)
class Options:
    flags: RunFlags  # ``flags.run_id``: the run to follow

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(dataclasses.replace(RunFlags.from_args(args), run_id=args.run_id_arg))


def run(options: Options, env: Env, out: Out) -> int:
    remote = existing_run(options.flags, env, out)
    with cancel_on_signals(out) as cancel:
        return follow_and_report(options.flags, remote, env, out, cancel, started_here=False)
