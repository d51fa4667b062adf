"""``pipeline-ci resume [RUN_ID]``: resume a paused remote run (default: the one in the state file). See
:mod:`.pause`, which does the work for both."""

from __future__ import annotations

from . import Env, Out
from .pause import Options, change

__all__ = ["Options", "run"]


def run(options: Options, env: Env, out: Out) -> int:
    return change(options, env, out, "resume")
