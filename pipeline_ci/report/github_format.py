"""GitHub workflow commands: ``::error file=F,line=L,col=C,title=RULE::message``.

Values are escaped as the runner expects (``%``, CR and LF everywhere; also ``:`` and ``,`` in
properties). A closing line gives the totals.
"""

from __future__ import annotations


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f) -> str:
    props = f"file={escape_property(f.file)},line={f.line},col={f.col},title={escape_property(f.rule + ' ' + f.name)}"
    return f"::{f.severity} {props}::{escape_data(f.message)}"


def render(result) -> str:
    lines = [command(f) for f in result.findings]
    lines.append(f"pipeline-ci: {result.errors} error(s), {result.warnings} warning(s) in {len(result.projects)} project(s)")
    return "\n".join(lines) + "\n"
