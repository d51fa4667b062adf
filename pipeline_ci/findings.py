"""What the linter reports: one :class:`Finding` per problem, with an exact position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at ``file:line:col``; ``path`` is the JSON path inside the document, if any."""

    file: str
    line: int
    col: int
    rule: str
    name: str
    severity: Severity
    message: str
    path: str = ""

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
        }


def json_path(parts: tuple) -> str:
    """``('spec', 'templates', 0, 'name')`` → ``spec.templates[0].name``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
