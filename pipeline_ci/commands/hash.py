"""``pipeline-ci hash STEP_DIR...``: print the Clarifai content hash of step folders, like md5sum.

A folder that cannot be hashed is reported (exit 2) and the others are still hashed. So is a folder the Clarifai
SDK's own hash fails or hangs on (a broken symlink, a FIFO or device, a name that is not UTF-8: see
:mod:`pipeline_ci.hashing`): its digest is still printed, then an error on stderr names the entries (exit 2).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..exitcodes import ExitCode
from . import Env, Out


@dataclass(frozen=True)
class Options:
    dirs: tuple[Path, ...]
    tracked_only: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(tuple(args.dirs), args.tracked_only)


def run(options: Options, env: Env, out: Out) -> int:
    from ..error_handler import print_error
    from ..hashing import HashError, hash_step

    status: int = ExitCode.OK
    for folder in options.dirs:
        try:
            hashed = hash_step(folder, tracked_only=options.tracked_only)
            out(f"{hashed.digest}  {folder}")
            if hashed.unhashable:
                raise HashError(f"{folder}: the Clarifai SDK cannot hash this folder (`clarifai pipeline upload` "
                                "fails on it) and pipeline-ci refuses to upload it",
                                details=[f"{rel} {why}" for rel, why in hashed.unhashable])
        except HashError as exc:  # reported like any error, and the next folder is still hashed
            print_error(exc)
            status = max(status, exc.exit_code)
    return status
