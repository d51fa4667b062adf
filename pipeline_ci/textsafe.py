"""Untrusted text made safe to print: the one place that decides how a line reaches a terminal or a CI log.

Much of what pipeline-ci prints comes from outside it: file and folder names, step ids, YAML values
quoted in messages, remote statuses and log lines, exception messages. Printed raw, such text could

- **forge lines**: a line break inside a value starts a new line that looks like pipeline-ci's own;
- **drive the terminal**: ESC / CSI sequences recolour, move the cursor, clear the screen, set the
  window title or hide a link (OSC 8);
- **hide or reorder text**: bidirectional overrides ("Trojan Source", CVE-2021-42574), zero-width
  characters, a byte-order mark;
- **run GitHub Actions workflow commands**: the runner reads every stdout *and* stderr line; one whose
  first non-blank characters are ``::`` is a command (``::add-mask::``, ``::stop-commands::``,
  ``::error::`` ...; leading white space is trimmed first), and so is a line containing the legacy
  ``##[command]`` form *anywhere* (actions/runner ``src/Runner.Common/ActionCommand.cs``,
  ``TryParseV2`` and ``TryParse``).

One function per meaning:

- :func:`escape_controls` shows control and invisible characters as Python-style escapes: ``\\n``,
  ``\\r``, ``\\x1b``, ``\\u202e``; a lone surrogate (an undecodable byte of a file name) as ``\\udcff``.
  Tab is kept. Backslashes are *not* doubled: the escaping is for reading, not for decoding back.
- :func:`neutralise_commands` makes a line inert for the runner: the first colon of a leading ``::`` is
  written ``\\x3a`` and every ``##[`` becomes ``##\\x5b``. This is done **always**, not only when
  ``GITHUB_ACTIONS`` is set: output also reaches Actions logs from containers that do not pass the
  variable through, and from report files printed by a later step; and the output stays the same
  locally and in CI.
- :func:`safe_line` is both, for one printed line; it is idempotent (its output has no control
  character, no leading ``::`` and no ``##[``), so text escaped early may pass a printer again.
- :func:`print_line` is the writer the commands print through (``upload``, ``deploy``, ``changed``,
  ``run``, ``watch``, ``cancel``, error messages on stderr).
- :class:`Verbatim` marks the few lines printed as they are: workflow commands pipeline-ci builds
  itself (``::stop-commands::<token>``) and lines already made safe for where they are printed
  (relayed remote logs inside a stop-commands block, see :func:`pipeline_ci.github.relay`).
- :func:`credential_problem` says why a token cannot be sent as a gRPC metadata or HTTP header value.

Workflow-command *data* (``::error ...::message``) is escaped by :func:`pipeline_ci.github.escape_data`,
and Markdown table cells by :func:`pipeline_ci.report.summary.cell`; both apply :func:`escape_controls`
first.
"""

from __future__ import annotations

import re
import sys

from .lazyre import lazy_re

TYPE_CHECKING = False  # not typing's: this module is on the cached lint's start-up, typing is not
if TYPE_CHECKING:
    from typing import IO

# C0 controls but tab, DEL and the C1 controls, then invisible or direction-changing format characters:
# ALM, soft hyphen, Mongolian vowel separator, zero-width space, LRM/RLM, line/paragraph separators,
# bidi embeddings/overrides/isolates, word joiner and invisible operators, BOM, interlinear annotations,
# and surrogates (only lone ones can occur in a str). ZWNJ/ZWJ (U+200C/U+200D) are kept: scripts and
# emoji need them.
UNSAFE = lazy_re(  # compiled on first use: most lines are printable ASCII (see escape_controls)
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    r"\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r"}
_LEADING_COMMAND = lazy_re(r"\s*::")  # \s covers every character .NET's TrimStart() trims
LEGACY_PREFIX = "##["


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with control and invisible characters shown as escapes (see the module docstring).

    ``keep``: characters a format legitimately needs (e.g. ``"\\r\\n"`` where line breaks are encoded
    by the next step, as in workflow-command data).
    """
    if text.isascii() and text.isprintable():  # U+0020..U+007E only: none of them is in UNSAFE
        return text
    if keep:
        return UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)
    return UNSAFE.sub(_escape, text)


def neutralise_commands(line: str) -> str:
    """``line`` that the GitHub runner cannot read as a workflow command (``::x::`` or legacy ``##[x]``)."""
    match = _LEADING_COMMAND.match(line)
    if match:
        colon = match.end() - 2
        line = f"{line[:colon]}\\x3a{line[colon + 1:]}"
    if LEGACY_PREFIX in line:
        line = line.replace(LEGACY_PREFIX, "##\\x5b")
    return line


class Verbatim(str):
    """A line :func:`safe_line` passes through unchanged: a workflow command pipeline-ci built itself, or
    text already escaped for the place it is printed. One line only. Anything derived from it (``+``,
    f-strings, slicing) is a plain ``str`` again, so it is escaped by default."""

    def __new__(cls, text: str) -> Verbatim:
        if "\n" in text or "\r" in text:
            raise ValueError("a verbatim line cannot contain a line break")
        return super().__new__(cls, text)


def safe_line(text: str) -> str:
    """One printable line from ``text``: controls escaped, workflow commands neutralised (idempotent)."""
    if isinstance(text, Verbatim):
        return str(text)
    return neutralise_commands(escape_controls(str(text)))


def print_line(line: str, stream: IO[str] | None = None) -> None:
    """Print one line through :func:`safe_line` and flush (stdout by default)."""
    out = sys.stdout if stream is None else stream
    out.write(safe_line(line) + "\n")
    out.flush()


_TOKEN_CHARS = lazy_re(r"[\x21-\x7e]*")


def credential_problem(value: str) -> str | None:
    """Why ``value`` cannot be a PAT / AccessKey / token, or ``None``; the message never quotes the value.

    Tokens go out as an HTTP header or gRPC metadata value, which allow printable ASCII only (gRPC:
    ``%x20-%x7E``, "PROTOCOL-HTTP2.md"; HTTP: no CR/LF/NUL, RFC 9110 §5.5); no real token contains a
    space, so any white space inside one is a copy-paste accident too. Surrounding white space is
    stripped by the callers before this check.
    """
    if _TOKEN_CHARS.fullmatch(value):
        return None
    bad = next(c for c in value if not 0x21 <= ord(c) <= 0x7E)
    if bad in "\r\n":
        kind = "a line break"
    elif bad.isspace():
        kind = "white space"
    elif ord(bad) < 0x20 or ord(bad) == 0x7F:
        kind = "a control character"
    else:
        kind = "a non-ASCII character"
    return f"contains {kind}; a token is printable ASCII without spaces (check how the secret was stored)"
