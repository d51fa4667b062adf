"""What a rule module sees (:class:`Context`) and what it yields (:class:`Hit`).

A rule is a module in this package with ``ID``, ``NAME``, ``SEVERITY`` and
``check(ctx) -> Iterable[Hit]``; its docstring documents it and carries its examples
(see :mod:`pipeline_ci.rules.examples`). Rules never read files themselves: everything
comes from the loaded :class:`~pipeline_ci.project.Project`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Severity
from ..project import Project
from ..yamldoc import Document, JsonPath, Pos


@dataclass(frozen=True)
class Options:
    """Switches that change what rules report."""

    require_fresh_locks: bool = False
    strict: bool = False


@dataclass
class Context:
    """The project being linted; ``memo`` lets rules share work (e.g. one schema pass)."""

    project: Project
    options: Options
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One problem found by a rule; ``severity`` overrides the rule's default when set."""

    file: str
    pos: Pos
    message: str
    path: JsonPath = ()
    severity: Severity | None = None


def at(doc: Document, path: JsonPath, message: str, *, key: bool = False, severity: Severity | None = None) -> Hit:
    """A hit at the value (or, with ``key=True``, the key) found at ``path`` in ``doc``."""
    return Hit(doc.file, doc.pos(path, key=key), message, path, severity)
