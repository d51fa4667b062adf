"""The GitHub job summary for ``lint``: a Markdown table of every finding, with no cap.

Annotations stop at 10 errors and 10 warnings per step; this table (appended to
``$GITHUB_STEP_SUMMARY`` by the CLI) is where the rest are. Rules link to their entry in
``docs/rules.md``, the same anchors as the SARIF ``helpUri``. Cell text is escaped for GFM tables:
control characters are shown escaped (:func:`pipeline_ci.textsafe.escape_controls`), Markdown
punctuation is backslash-escaped (so ``|`` cannot split a cell and ``<`` cannot open HTML) and line
breaks become ``<br>``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ..textsafe import escape_controls
from .github_format import MAX_ANNOTATIONS
from .sarif_format import DOCS

_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")
_URL_SAFE = "/:?#[]@!$&'*+,;=%-._~"  # RFC 3986 reserved and unreserved characters; "(", ")", space... encoded
ICON = {"error": "\u274c", "warning": "\u26a0\ufe0f"}


def cell(text: str) -> str:
    """``text`` safe inside one GFM table cell (or anywhere in a Markdown line)."""
    escaped = _SPECIAL.sub(r"\\\1", escape_controls(text, keep="\r\n"))
    return "<br>".join(escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def code(text: str) -> str:
    """``text`` as an inline code span inside a table cell: fenced with more backticks than it holds."""
    flat = escape_controls(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}" if flat else ""


def link(text: str, url: str | None) -> str:
    """A Markdown link to an ``http(s)`` ``url`` (percent-encoded, so it cannot end early); the text alone
    when there is no such url."""
    label = cell(text)
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return label
    return f"[{label}]({quote(url, safe=_URL_SAFE)})"


def rule_link(rule: str, name: str) -> str:
    return f"[{cell(rule)} {cell(name)}]({DOCS}#{rule.lower()}-{name})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def lint_summary(result, title: str = "pipeline-ci lint") -> str:
    """Markdown: a heading, the totals, and one table row per finding (errors first, then file order)."""
    projects = _plural(len(result.projects), "project")
    lines = [f"### {title}", ""]
    if not result.findings:
        lines.append(f"\u2705 No problems found in {projects}.")
        return "\n".join(lines) + "\n"
    lines.append(f"**{_plural(result.errors, 'error')}, {_plural(result.warnings, 'warning')}** in {projects}.")
    if result.errors > MAX_ANNOTATIONS or result.warnings > MAX_ANNOTATIONS:
        lines += ["", f"GitHub shows at most {MAX_ANNOTATIONS} error and {MAX_ANNOTATIONS} warning annotations "
                      "per step; every finding is listed here."]
    lines += ["", "| Severity | Rule | Location | Message |", "|---|---|---|---|"]
    ordered = sorted(result.findings, key=lambda f: f.severity != "error")  # stable: keeps file order
    for f in ordered:
        lines.append(f"| {ICON.get(f.severity, '')} {f.severity} | {rule_link(f.rule, f.name)} "
                     f"| {cell(f'{f.file}:{f.line}:{f.col}')} | {cell(f.message)} |")
    return "\n".join(lines) + "\n"
