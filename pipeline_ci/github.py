"""GitHub Actions runner integration: step outputs, the job summary, state, masking, log groups, stop-commands.

Every helper takes the environment as a mapping (default ``os.environ``) and, for workflow commands, an
output stream (default ``sys.stdout``), so it is testable without a runner. Outside Actions they do
nothing (and return ``False``): in particular :func:`mask` never prints a secret to a local terminal.

Files the runner reads after the step (github/docs "workflow commands"):

- ``$GITHUB_OUTPUT``: ``name=value`` lines; values with a line break use ``name<<DELIM`` ... ``DELIM``
  with a random delimiter that does not occur in the value;
- ``$GITHUB_STEP_SUMMARY``: Markdown, **1 MiB per step** (an overflow fails the summary upload), so
  :func:`append_summary` truncates at a line boundary and says so;
- ``$GITHUB_STATE``: same format as outputs, read back only by JavaScript actions' ``post`` hooks.
  Later steps cannot read it, so ``pipeline-ci run`` also keeps the remote run id in a state file
  under ``$RUNNER_TEMP`` for ``pipeline-ci cancel`` in an ``if: cancelled()`` step.

The deprecated ``::set-output``/``::save-state``/``::set-env``/``::add-path`` commands are never used.

Workflow-command values are encoded with :func:`escape_data` (data) and :func:`escape_property`
(properties), the runner's own mappings; how untrusted text is shown in plain output lines (and why a
line can never start a command) is :mod:`pipeline_ci.textsafe`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .textsafe import Verbatim, escape_controls

SUMMARY_LIMIT = 1024 * 1024  # bytes per step (GitHub's job summary limit)
TRUNCATED_NOTE = ("\n\n> [!WARNING]\n> pipeline-ci truncated this summary at GitHub's 1 MiB per-step limit; "
                  "the complete report is in the step log, the SARIF file or the `--format json` output.\n")

Env = Mapping[str, str]


def _env(env: Env | None) -> Env:
    return os.environ if env is None else env


def _out(stream: IO[str] | None) -> IO[str]:
    return sys.stdout if stream is None else stream


def in_actions(env: Env | None = None) -> bool:
    """True inside a GitHub Actions step (``GITHUB_ACTIONS=true`` or a runner file variable is set)."""
    env = _env(env)
    return env.get("GITHUB_ACTIONS") == "true" or any(
        env.get(name) for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"))


def workspace_path(path: str | os.PathLike[str], env: Env | None = None) -> str:
    """``path`` relative to the workspace (``$GITHUB_WORKSPACE``, else the working directory), POSIX style, symlinks
    resolved; a file outside it stays absolute. GitHub resolves annotation and SARIF paths against the workspace."""
    base = os.path.realpath(_env(env).get("GITHUB_WORKSPACE") or os.getcwd())
    real = os.path.realpath(path)
    inside = real.startswith(base.rstrip(os.sep) + os.sep)
    return Path(os.path.relpath(real, base)).as_posix() if inside else Path(real).as_posix()


def escape_data(text: str) -> str:
    """Escape a workflow-command message (``%``, CR, LF), as the runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value: :func:`escape_data` plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command_data(text: str) -> str:
    """Untrusted text as workflow-command data: other controls shown escaped, line breaks kept (encoded as
    ``%0D``/``%0A``, which the runner decodes back into the annotation), then :func:`escape_data`."""
    return escape_data(escape_controls(text, keep="\r\n"))


def command_property(text: str) -> str:
    """Untrusted text as a workflow-command property (e.g. ``file=``), like :func:`command_data`."""
    return escape_property(escape_controls(text, keep="\r\n"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "=\r\n") or "<<" in name:
        raise ValueError(f"invalid GitHub output/state name: {name!r}")


def key_value(name: str, value: Any) -> str:
    """One ``$GITHUB_OUTPUT``/``$GITHUB_STATE`` entry: ``name=value`` or the heredoc form for multi-line values."""
    _check_name(name)
    text = _text(value)
    if "\n" not in text and "\r" not in text:
        return f"{name}={text}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in text:  # astronomically unlikely, but a collision would end the value early
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)


def set_output(name: str, value: Any, env: Env | None = None) -> bool:
    """Append a step output to ``$GITHUB_OUTPUT``; ``False`` (and nothing written) when it is not set.

    ``bool`` becomes ``true``/``false``, ``dict``/``list`` compact JSON, ``None`` the empty string.
    """
    path = _env(env).get("GITHUB_OUTPUT")
    if not path:
        return False
    _append(path, key_value(name, value))
    return True


def save_state(name: str, value: Any, env: Env | None = None) -> bool:
    """Append to ``$GITHUB_STATE`` (for JavaScript ``post`` hooks only; see :func:`save_run_state`)."""
    path = _env(env).get("GITHUB_STATE")
    if not path:
        return False
    _append(path, key_value(name, value))
    return True


def truncate_summary(markdown: str, room: int) -> tuple[str, bool]:
    """``markdown`` cut to at most ``room`` UTF-8 bytes (note included), at a line boundary if possible."""
    data = markdown.encode("utf-8")
    if len(data) <= room:
        return markdown, False
    note = TRUNCATED_NOTE.encode("utf-8")
    budget = room - len(note)
    if budget <= 0:
        return "", True
    cut = data[:budget]
    newline = cut.rfind(b"\n")
    if newline > 0:
        cut = cut[: newline + 1]
    return cut.decode("utf-8", errors="ignore") + TRUNCATED_NOTE, True


def append_summary(markdown: str, env: Env | None = None, limit: int = SUMMARY_LIMIT) -> bool:
    """Append Markdown to ``$GITHUB_STEP_SUMMARY``, keeping the step's file within ``limit`` bytes.

    What would not fit is dropped at a line boundary and replaced by a note. Returns ``False`` when
    there is no summary file (not in Actions) or no room left at all.
    """
    path = _env(env).get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    if not markdown.endswith("\n"):
        markdown += "\n"
    text, _ = truncate_summary(markdown, limit - used)
    if not text:
        return False
    _append(path, text)
    return True


CREDENTIALS = ("CLARIFAI_PAT", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


def mask_credentials(env: Env | None = None) -> None:
    """Register the credential values in the environment before anything prints (no-op outside Actions)."""
    env = _env(env)
    for name in CREDENTIALS:
        mask(env.get(name), env)


def mask(value: str | None, env: Env | None = None, stream: IO[str] | None = None) -> bool:
    """Register ``value`` as a secret (``::add-mask::``), one line at a time; empty values are skipped.

    Prints nothing outside Actions, where the command would only show the secret. That takes the runner's own
    ``GITHUB_ACTIONS=true``: a runner file variable alone (``GITHUB_OUTPUT`` set by a script or a test, enough for
    :func:`in_actions`) is no proof that a runner reads the output and hides the value.
    """
    if not value or _env(env).get("GITHUB_ACTIONS") != "true":
        return False
    out = _out(stream)
    lines = [line for line in value.splitlines() if line.strip()]
    for line in lines:
        out.write(f"::add-mask::{escape_data(line)}\n")
    out.flush()
    return bool(lines)


@contextlib.contextmanager
def group(title: str, env: Env | None = None, stream: IO[str] | None = None) -> Iterator[None]:
    """A collapsible log group (``::group::title`` ... ``::endgroup::``); a plain no-op outside Actions."""
    if not in_actions(env):
        yield
        return
    out = _out(stream)
    out.write(f"::group::{escape_data(escape_controls(title))}\n")
    out.flush()
    try:
        yield
    finally:
        out.write("::endgroup::\n")
        out.flush()


def new_token() -> str:
    """A random stop-commands token (128 bits): unguessable by the text it protects the log from."""
    return f"pipeline-ci-{secrets.token_hex(16)}"


@contextlib.contextmanager
def relay(out: Callable[[str], None], env: Env | None = None) -> Iterator[Callable[[str], None]]:
    """Relay untrusted lines (remote run logs) through ``out`` with workflow commands suspended.

    ``out`` prints one line per call. In Actions, ``::stop-commands::<random token>`` goes first and
    ``::<token>::`` (resume) last, so a relayed line such as ``::add-mask::`` or ``::error::`` is shown
    as text and never acted on; each relayed line has its control characters escaped and is then
    passed on as :class:`~pipeline_ci.textsafe.Verbatim` (a printer through
    :func:`~pipeline_ci.textsafe.safe_line` shows it as it is). Outside Actions this just yields ``out``,
    whose printer neutralises command-looking lines like any other.
    """
    if not in_actions(env):
        yield out
        return
    token = new_token()
    out(Verbatim(f"::stop-commands::{token}"))

    def relayed(line: str) -> None:
        out(Verbatim(escape_controls(line)))

    try:
        yield relayed
    finally:
        out(Verbatim(f"::{token}::"))


@contextlib.contextmanager
def stop_commands(env: Env | None = None, stream: IO[str] | None = None) -> Iterator[str | None]:
    """:func:`relay` for a stream: yields the token (``None`` outside Actions, where nothing is printed).

    The resume line starts with a line break in case the relayed text did not end with one. What the
    caller writes in between is its own business: pass it through
    :func:`~pipeline_ci.textsafe.escape_controls` first.
    """
    if not in_actions(env):
        yield None
        return
    out = _out(stream)
    token = new_token()
    out.write(f"::stop-commands::{token}\n")
    out.flush()
    try:
        yield token
    finally:
        out.write(f"\n::{token}::\n")
        out.flush()
