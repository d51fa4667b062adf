"""``path:line:col: severity [RULE] message`` per finding, then a summary line."""

from __future__ import annotations


def render(result) -> str:
    lines = [f"{f.file}:{f.line}:{f.col}: {f.severity} [{f.rule}] {f.message}" for f in result.findings]
    projects = len(result.projects)
    summary = (
        f"{result.errors} error(s), {result.warnings} warning(s) in {projects} project(s)"
        if result.findings
        else f"no problems found in {projects} project(s)"
    )
    return "\n".join([*lines, summary]) + "\n"
