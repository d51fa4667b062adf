"""The one error base of pipeline-ci: every expected failure is a :class:`PipelineCIError` that carries
its exit code (:class:`~pipeline_ci.exitcodes.ExitCode`) and, optionally, a hint (the command that fixes
it) and detail lines (e.g. a platform's build log). The CLI's error handler (:mod:`pipeline_ci.error_handler`)
turns it into one message and that code; anything else that escapes a command is an internal error (exit 70).

Three families, by exit code:

- :class:`UsageError` (2): bad flags, paths, ids, settings, overrides, credentials missing: nothing was started.
  There is exactly one; ``pipeline_ci.findings.UsageError`` is this class.
- :class:`PlatformError` (3 unless a platform says the request itself was wrong, then 2): an API or
  infrastructure failure.
- :class:`PipelineCIError` with :attr:`~pipeline_ci.exitcodes.ExitCode.FAILED` (1): something the user's
  pipeline did (a step that cannot be run, a build that failed).
"""

from __future__ import annotations

from collections.abc import Iterable

from .exitcodes import ExitCode


class PipelineCIError(Exception):
    """A failure the user can act on. ``exit_code``: see :class:`ExitCode`; ``hint``: what to do next;
    ``details``: lines printed under the message (a build log), each made safe by the printer."""

    exit_code: int = ExitCode.USAGE

    def __init__(self, message: str, exit_code: int | None = None, hint: str | None = None, *,
                 details: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code
        self.hint = hint
        self.details: list[str] = list(details)


class UsageError(PipelineCIError):
    """Bad flags, paths, ids, settings or overrides: nothing was started (exit 2)."""

    exit_code = ExitCode.USAGE


class PlatformError(PipelineCIError):
    """A platform API or infrastructure failure (exit 3 unless the platform says it is configuration)."""

    exit_code = ExitCode.API


class RunFailure(PipelineCIError):
    """Something the pipeline itself does that makes a run or build fail (exit 1)."""

    exit_code = ExitCode.FAILED
