"""``pipeline-ci schema NAME``: print a JSON Schema shipped with pipeline-ci."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from ..errors import UsageError
from ..exitcodes import ExitCode
from . import Env, Out


@dataclass(frozen=True)
class Options:
    name: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(args.name)


def run(options: Options, env: Env, out: Out) -> int:
    from .. import schemas

    if options.name not in schemas.NAMES:
        raise UsageError(f"unknown schema {options.name!r}; choose from {', '.join(schemas.NAMES)}")
    sys.stdout.write(json.dumps(schemas.load(options.name), indent=2) + "\n")  # JSON escapes every control character
    return ExitCode.OK
