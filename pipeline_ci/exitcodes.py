"""Every exit code of ``pipeline-ci``, in one place (the README's exit-code table is this enum).

The same numbers mean the same thing for every command: ``lint`` uses 0/1/2, ``changed``/``upload``/
``deploy``/``run``/``watch``/``cancel`` the whole run contract. 70 is sysexits' ``EX_SOFTWARE``: a bug in
pipeline-ci, never a verdict about your pipeline.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success; no lint errors; the run succeeded
    FAILED = 1  # lint errors found; the run (or a platform build) failed
    USAGE = 2  # usage or configuration error: nothing was started
    API = 3  # API or infrastructure error: could not start, or lost track of the run
    TIMED_OUT = 4  # timed out waiting (``--timeout``)
    CANCELLED = 5  # cancelled (by the platform, or SIGINT/SIGTERM: the run was cancelled first)
    INTERNAL = 70  # internal error (a bug): any run this process started was cancelled; traceback in a file
    INTERRUPTED = 130  # Ctrl-C in a command that starts no run (128 + SIGINT)


WORDS: dict[int, str] = {
    ExitCode.OK: "succeeded", ExitCode.FAILED: "failed", ExitCode.API: "error", ExitCode.TIMED_OUT: "timed-out",
    ExitCode.CANCELLED: "cancelled",
}
"""The ``status`` output of a run (GitHub output and summaries) for each exit code."""


def status_word(code: int) -> str:
    """The ``status`` word of a run that ended with ``code`` (``error`` for any code without its own word)."""
    return WORDS.get(code, "error")
