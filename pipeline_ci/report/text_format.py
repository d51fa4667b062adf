"""``path:line:col: severity [RULE] message`` per finding, the offending source line with a caret under the column
(like ruff and actionlint; ``lint --no-source`` leaves it out), then a summary line::

    config.yaml:12:7: error [A04] unknown field 'temlateRef'; did you mean 'templateRef'?
      12 |       temlateRef:
         |       ^

Each line goes through :func:`pipeline_ci.textsafe.safe_line`: a file name, message or source line carrying a line
break, an escape sequence or a workflow command is shown escaped and cannot start a line of its own; the caret is
placed under the escaped text (tabs kept, wide characters counted twice). The source line is shown only when the
file still reads as text and has that line, and was not reached through a symlink that leaves the linted projects
(a link to a secrets file is reported, never printed). Colour (``colour=True``, a terminal) is added after the escaping.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..discovery import _inside, real
from ..lazyre import lazy_re
from ..textsafe import LEGACY_PREFIX, escape_controls, safe_line

WIDTH = 160
"""Longest source excerpt shown; a longer line is cut around the column (``...`` marks a cut)."""
MAX_BYTES = 5_000_000
_STYLE = {"error": "1;31", "warning": "1;33"}
_GUTTER = "34"
_LINE_BREAK = lazy_re("\r\n|[\r\n\x85\u2028\u2029]")
"""YAML's line breaks (YAML 1.1, as PyYAML counts lines), not :meth:`str.splitlines`' (which adds \\v, \\f ...)."""


def render(result, *, source: bool = True, colour: bool = False, summary: bool = True) -> str:
    """The report; ``summary``: end with the summary line (``-q`` leaves it out)."""
    from ..console import BOLD, DIM, paint

    files: dict[str, list[str] | None] = {}
    roots = [real(Path(p)) for p in result.projects]
    lines: list[str] = []
    for f in result.findings:
        if colour:  # the location bold, the severity in its colour, the rule id dimmed (like ruff)
            lines.append(f"{paint(safe_line(f'{f.file}:{f.line}:{f.col}:'), BOLD)} "
                         f"{paint(safe_line(f.severity), _STYLE.get(f.severity, BOLD))} "
                         f"{paint(safe_line(f'[{f.rule}]'), DIM)} {safe_line(f.message)}")
        else:
            lines.append(safe_line(f"{f.file}:{f.line}:{f.col}: {f.severity} [{f.rule}] {f.message}"))
        if source:
            lines += excerpt(files, f.file, f.line, f.col, _STYLE.get(f.severity, BOLD) if colour else None, roots)
    projects = len(result.projects)
    if not summary:
        return "".join(f"{line}\n" for line in lines)
    total = (
        f"{result.errors} error(s), {result.warnings} warning(s) in {projects} project(s)"
        if result.findings
        else f"no problems found in {projects} project(s)"
    )
    return "\n".join([*lines, paint(total, BOLD, colour and bool(result.findings))]) + "\n"


def excerpt(files: dict[str, list[str] | None], file: str, line: int, col: int, style: str | None,
            roots: list[Path]) -> list[str]:
    """The two lines under a finding (source and caret), or none when the source is not available as text (or is
    not :func:`_confined` to the linted projects at ``roots``)."""
    from ..console import paint

    if file not in files:
        files[file] = _read(file, roots)
    text = files[file]
    if text is None or not 1 <= line <= len(text) or not text[line - 1].strip():
        return []
    raw = text[line - 1]
    col = min(max(col, 1), len(raw) + 1)
    start = max(0, min(col - 1 - WIDTH // 3, len(raw) - WIDTH)) if len(raw) > WIDTH else 0
    shown = ("..." if start else "") + raw[start:start + WIDTH] + ("..." if start + WIDTH < len(raw) else "")
    before = ("..." if start else "") + raw[start:col - 1]
    gutter = " " * len(str(line))
    number = paint(f"  {line} |", _GUTTER, style is not None)
    bar = paint(f"  {gutter} |", _GUTTER, style is not None)
    caret = paint("^", style, True) if style else "^"
    return [f"{number} {_printable(shown)}", f"{bar} {_pad(before)}{caret}"]


def _printable(text: str) -> str:
    """Source text as printed after the gutter: controls escaped and the legacy ``##[`` command neutralised, as
    :func:`safe_line` does (a leading ``::`` cannot occur: the line starts with the gutter), nothing else, so the
    caret's column is exact."""
    return escape_controls(text).replace(LEGACY_PREFIX, "##\\x5b")


def _pad(prefix: str) -> str:
    """Blanks as wide as ``prefix`` once printed by :func:`_printable` (tabs kept, wide characters two)."""
    import unicodedata  # only under a finding (a clean report never needs it)

    printed = _printable(prefix)
    out = []
    for char in printed:
        if char == "\t":
            out.append("\t")
        elif unicodedata.combining(char):
            continue
        else:
            out.append("  " if unicodedata.east_asian_width(char) in ("W", "F") else " ")
    return "".join(out)


def _confined(path: Path, roots: list[Path]) -> bool:
    """Whether ``path`` may be shown: reached without a symlink, or through links that stay inside a linted project
    (a finding at a link that leaves the project must not print the target's content, e.g. a secrets file)."""
    resolved = real(path)
    if resolved == Path(os.path.abspath(path)) and not path.is_symlink():
        return True
    return any(_inside(resolved, root) for root in roots)


def _read(file: str, roots: list[Path]) -> list[str] | None:
    path = Path(file)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES or not _confined(path, roots):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return _LINE_BREAK.split(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None
