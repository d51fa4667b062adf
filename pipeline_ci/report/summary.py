"""The GitHub job summary for ``lint``: a Markdown table of every finding, with no cap.

Annotations stop at 10 errors and 10 warnings per step; this table (appended to
``$GITHUB_STEP_SUMMARY`` by the CLI) is where the rest are. Rules link to their entry in
``docs/rules.md``, the same anchors as the SARIF ``helpUri``. Cell text is escaped for GFM tables:
Markdown punctuation is backslash-escaped (so ``|`` cannot split a cell and ``<`` cannot open
HTML) and line breaks become ``<br>``.
"""

from __future__ import annotations

import re

from .github_format import MAX_ANNOTATIONS
from .sarif_format import DOCS

_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")
ICON = {"error": "\u274c", "warning": "\u26a0\ufe0f"}


def cell(text: str) -> str:
    """``text`` safe inside one GFM table cell."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return "<br>".join(escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


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
