"""Named write points of ``upload``/``deploy``, where a test can kill the process with SIGKILL.

The deploy engine calls :func:`reached` at each point where it has just changed the platform or a file (see
``POINTS``). With ``PIPELINE_CI_TEST_KILL_AT=<point>`` (or ``<point>#<n>`` for the n-th time it is reached) in the
environment, the process kills itself with SIGKILL there: exactly what ``kill -9`` does at that instant, and
deterministic. ``tests/test_upload_safety.py`` re-runs the same command afterwards and checks that it converges.
Without the variable this is a dictionary look-up. The variable is read here and nowhere else.
"""

from __future__ import annotations

import os
import signal

ENV = "PIPELINE_CI_TEST_KILL_AT"
POINTS = (
    "step-created",  # PostPipelineSteps answered (the step exists, no version yet)
    "step-upload-sent",  # the archive is on the platform, its build is running
    "step-ready",  # the build finished; the step lockfile is not written yet
    "step-lock-temp",  # the step lockfile's temporary file is written, not renamed yet
    "step-lock-written",  # the step lockfile is in place; the root lockfile is behind
    "pipeline-created",  # a pipeline version exists; the root lockfile is not written yet
    "root-lock-temp",  # the root lockfile's temporary file is written, not renamed yet
    "root-lock-written",  # everything is done
)
_seen: dict[str, int] = {}


def reached(point: str) -> None:
    """Record that ``point`` (one of :data:`POINTS`) was reached; SIGKILL this process if the test asked for it."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition("#")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def armed() -> bool:
    """Is a kill point asked for? (:mod:`pipeline_ci.builds` then settles the steps one at a time, so that the n-th
    time a point is reached is the same step on every run.)"""
    return bool(os.environ.get(ENV))
