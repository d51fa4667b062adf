"""The CLI's single error handler (modelled on pre-commit's ``error_handler``): every command runs inside
:func:`run_command`, which turns whatever escapes it into one message on stderr and one exit code.

- :class:`~pipeline_ci.errors.PipelineCIError` (an expected failure): ``pipeline-ci: error: <message>``, its
  detail lines (``  | ...``) and ``  hint: <hint>``; the error's exit code. Argument errors are printed by
  :func:`print_error` too (the CLI's parser raises them as :class:`~pipeline_ci.errors.UsageError`), so every user
  error has this one format; on a terminal the prefix and the hint are coloured (:mod:`pipeline_ci.console`).
- :class:`KeyboardInterrupt`: 130 in a command that started no run (``run`` and ``watch`` handle SIGINT
  themselves: they cancel the run and exit 5; if a run is still registered here, it is cancelled and the exit is 5).
- :class:`BrokenPipeError`: 0 (whoever read the output went away, e.g. ``pipeline-ci rules | head -1``).
- Anything else is an **internal error** (a bug in pipeline-ci): every remote run this process started and has
  not seen finish (:mod:`pipeline_ci.runs.active`) is cancelled, the traceback is written to a crash file
  (:func:`write_crash_report`: no frame locals, credentials masked, mode 0600), and
  ``pipeline-ci: internal error: <Type>: <message> (traceback in <file>; please report it)`` is printed; exit 70.
  ``PIPELINE_CI_DEBUG=1`` re-raises instead (after cancelling the runs).

Any remote run still registered when an expected error escapes is cancelled too: a command never exits with an
error while leaving a run it started behind.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .errors import PipelineCIError
from .exitcodes import ExitCode

Writer = Callable[[str], None]

SECRET_NAME = r"(PAT|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|API_?KEY|PRIVATE_?KEY)$"
"""Other variables whose values are masked in crash reports (values of 6 characters or more; case ignored)."""
MASK = "***"
MESSAGE_LIMIT = 1000


def err(line: str) -> None:
    """One line on stderr through the escaping writer (:func:`pipeline_ci.textsafe.print_line`)."""
    from .textsafe import print_line

    print_line(line, sys.stderr)


def print_error(exc: PipelineCIError, say: Writer = err) -> None:
    """An expected failure as the user sees it: the message, its detail lines and its hint."""
    say(f"pipeline-ci: error: {exc}")
    for line in exc.details:
        say(f"  | {line}")
    if exc.hint:
        say(f"  hint: {exc.hint}")


def run_command(command: Callable[[], int], *, argv: Sequence[str] = (), env: Mapping[str, str] | None = None,
                say: Writer = err) -> int:
    """Run ``command`` and return its exit code, or the exit code of what escaped it (see the module docstring).
    ``argv`` (only the option names are kept) and ``env`` (for masking and where to write) describe a crash;
    ``say`` prints one line on stderr."""
    env = os.environ if env is None else env
    try:
        return int(command())
    except PipelineCIError as exc:
        _cancel_active(say)
        print_error(exc, say)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return ExitCode.CANCELLED if _cancel_active(say) else ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        cancelled = _cancel_active(say)
        if env.get("PIPELINE_CI_DEBUG"):
            raise
        return internal_error(exc, argv, env, cancelled, say)


def internal_error(exc: BaseException, argv: Sequence[str], env: Mapping[str, str], cancelled: Sequence[str] = (),
                   say: Writer = err) -> int:
    """Report ``exc`` as a bug: crash file, one line on stderr; returns 70."""
    secrets = secret_values(env)
    try:
        path: Path | None = write_crash_report(exc, argv, env, cancelled)
        where = f"traceback in {path}"
    except OSError as problem:
        path, where = None, f"the traceback could not be written ({problem.strerror or problem}); " \
                            "PIPELINE_CI_DEBUG=1 shows it"
    message = mask(str(exc), secrets)
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + "..."
    say(f"pipeline-ci: internal error: {type(exc).__name__}: {message} ({where}; please report it)")
    return ExitCode.INTERNAL


def _cancel_active(say: Writer) -> list[str]:
    """Cancel the remote runs this process started and has not seen finish (best effort); their ids."""
    from .runs import active

    if not active.runs():
        return []
    return active.cancel_all(say)


# ----------------------------------------------------------------------------------------------- crash report


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values to mask: the credentials, and variables whose name says secret; each line of each too."""
    from .github import CREDENTIALS

    values: set[str] = set()
    for name, value in env.items():
        known = name in CREDENTIALS  # always masked (the names github.mask_credentials registers)
        if not (known or re.search(SECRET_NAME, name, re.I)):
            continue
        for part in (value, *value.splitlines()):
            part = part.strip()
            if len(part) >= (3 if known else 6):
                values.add(part)
    return sorted(values, key=len, reverse=True)  # longest first: a value containing another is masked whole


def mask(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        text = text.replace(value, MASK)
    return text


def crash_paths(env: Mapping[str, str], stamp: str) -> list[Path]:
    """Where a crash report goes, in order of preference: ``$RUNNER_TEMP`` (Actions), ``.pipeline-ci/`` in the
    current directory, the temp directory."""
    import tempfile

    paths = []
    if env.get("RUNNER_TEMP"):
        paths.append(Path(env["RUNNER_TEMP"]) / f"pipeline-ci-crash-{stamp}.log")
    try:
        paths.append(Path.cwd() / ".pipeline-ci" / f"crash-{stamp}.log")
    except OSError:  # the current directory was removed
        pass
    paths.append(Path(tempfile.gettempdir()) / f"pipeline-ci-crash-{stamp}.log")
    return paths


def crash_report(exc: BaseException, argv: Sequence[str], env: Mapping[str, str], cancelled: Sequence[str] = ()) -> str:
    """The crash report's text: versions, the command (option names only: values may be private), the runs that
    were cancelled and the formatted traceback (with chained exceptions, without frame locals); credentials masked."""
    import platform
    import traceback

    from . import __version__

    command = [a for i, a in enumerate(argv) if i == 0 or a.startswith("-")]
    lines = [f"pipeline-ci {__version__} internal error at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}",
             f"command: pipeline-ci {' '.join(command)}".rstrip(),
             f"python {platform.python_version()} ({sys.executable}) on {platform.platform()}"]
    if cancelled:
        lines.append(f"cancelled runs: {', '.join(cancelled)}")
    text = "\n".join(lines) + "\n\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return mask(text, secret_values(env))


def write_crash_report(exc: BaseException, argv: Sequence[str], env: Mapping[str, str],
                       cancelled: Sequence[str] = ()) -> Path:
    """Write :func:`crash_report` to the first of :func:`crash_paths` that works (a new file, mode 0600); its path.
    Raises the last :class:`OSError` when none does."""
    text = crash_report(exc, argv, env, cancelled).encode("utf-8", "backslashreplace")
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    problem: OSError = OSError("no place to write it")
    for path in crash_paths(env, stamp):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.parent.name == ".pipeline-ci" and not (path.parent / ".gitignore").exists():
                (path.parent / ".gitignore").write_text("# pipeline-ci local state\n*\n", encoding="utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc_open:
            problem = exc_open
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
        return path
    raise problem
