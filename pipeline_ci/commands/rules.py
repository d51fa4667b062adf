"""``pipeline-ci rules``: list the lint rules (``--format markdown`` generates ``docs/rules.md``)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from ..exitcodes import ExitCode
from . import Env, Out


@dataclass(frozen=True)
class Options:
    format: str = "text"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(args.format)


def run(options: Options, env: Env, out: Out) -> int:
    from ..rules import all_rules
    from ..rules.examples import render_markdown

    if options.format == "markdown":
        sys.stdout.write(render_markdown())
    else:
        for rule in all_rules():
            summary = (rule.__doc__ or "").strip().splitlines()[0]
            print(f"{rule.ID}  {rule.NAME:<28} {rule.SEVERITY:<8} {summary}")
    return ExitCode.OK
