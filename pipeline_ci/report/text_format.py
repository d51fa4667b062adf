"""``path:line:col: severity [RULE] message`` per finding, then a summary line.

Each line goes through :func:`pipeline_ci.textsafe.safe_line`: a file name or message carrying a line
break, an escape sequence or a workflow command is shown escaped and cannot start a line of its own.
"""

from __future__ import annotations

from ..textsafe import safe_line


def render(result) -> str:
    lines = [safe_line(f"{f.file}:{f.line}:{f.col}: {f.severity} [{f.rule}] {f.message}") for f in result.findings]
    projects = len(result.projects)
    summary = (
        f"{result.errors} error(s), {result.warnings} warning(s) in {projects} project(s)"
        if result.findings
        else f"no problems found in {projects} project(s)"
    )
    return "\n".join([*lines, summary]) + "\n"
