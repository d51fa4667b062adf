"""What the linter reports: one :class:`Finding` per problem, with an exact position."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

from .errors import UsageError as UsageError  # re-exported: lint raises it (exit 2); there is one UsageError

Severity = str  # "error" or "warning" (no typing.Literal: typing is not imported on the fast path)
SEVERITIES = ("error", "warning")

# A named tuple rather than a dataclass: this module is on the lint cache's fast path, and
# importing dataclasses (which imports inspect) would double the start-up time of a cached lint.
_Fields = namedtuple("_Fields", "file line col rule name severity message path", defaults=("",))


class Finding(_Fields):
    """One problem at ``file:line:col``; ``path`` is the JSON path inside the document, if any.

    Fields: ``file``, ``line``, ``col``, ``rule``, ``name``, ``severity`` (``error``/``warning``),
    ``message``, ``path``. Immutable, ordered by position.
    """

    __slots__ = ()

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


class LintResult:
    """The findings of one ``lint`` invocation and the projects it covered."""

    def __init__(self, findings: list[Finding] | None = None, projects: list[Path] | None = None):
        self.findings: list[Finding] = findings if findings is not None else []
        self.projects: list[Path] = projects if projects is not None else []

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    def to_json(self) -> dict:
        return {"projects": [str(p) for p in self.projects],
                "findings": [[f.file, f.line, f.col, f.rule, f.name, f.severity, f.message, f.path]
                             for f in self.findings]}

    @classmethod
    def from_json(cls, data: dict) -> LintResult:
        return cls([Finding(*row) for row in data["findings"]], [Path(p) for p in data["projects"]])
