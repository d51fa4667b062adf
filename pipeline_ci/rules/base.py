"""What a rule module sees (its context) and what it yields (:class:`Hit`).

A rule is a module in this package with ``ID``, ``NAME``, ``SEVERITY``, ``TARGET`` and
``check(ctx) -> Iterable[Hit]``; its docstring documents it and carries its examples
(see :mod:`pipeline_ci.rules.examples`). Rules never read files themselves: everything comes from
the loaded model.

``TARGET`` says which kind of thing the rule checks, and so which context ``check`` gets (the linter
runs a rule only on targets of its kind, see :func:`contexts`):

- ``"clarifai"``: a Clarifai pipeline project, :class:`ClarifaiContext` (``ctx.project``, a
  :class:`~pipeline_ci.project.Project`, including the load errors and duplicate keys of the run overrides
  files found in it);
- ``"manifest"``: a PAI pipeline manifest, :class:`ManifestContext` (``ctx.manifest``, a
  :class:`~pipeline_ci.platforms.pai.manifest.Manifest`);
- ``"overrides"``: each run overrides file of a Clarifai project that loads, :class:`OverridesContext`
  (``ctx.overrides``, an :class:`~pipeline_ci.model.overrides.OverridesFile`, and ``ctx.project``, the project
  whose workflow it sets parameters of).

All contexts of one project share ``memo``, so rules can share work (e.g. one schema pass).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity
from ..model.overrides import OverridesFile
from ..project import Project
from ..records import NamedTuple
from ..yamldoc import Document, JsonPath, Pos

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

    from ..platforms.pai.manifest import Manifest  # imported by the manifest rules, only when a manifest is linted

CLARIFAI = "clarifai"
MANIFEST = "manifest"
OVERRIDES = "overrides"
TARGETS = (CLARIFAI, MANIFEST, OVERRIDES)


class Options(NamedTuple):
    """Switches that change what rules report."""

    require_fresh_locks: bool = False
    strict: bool = False


class ClarifaiContext:
    """A Clarifai pipeline project being linted (``TARGET = "clarifai"``)."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, project: Project, options: Options, memo: dict[str, Any] | None = None):
        self.project = project
        self.options = options
        self.memo: dict[str, Any] = memo if memo is not None else {}


class ManifestContext:
    """A PAI pipeline manifest being linted (``TARGET = "manifest"``)."""

    def __init__(self, manifest: Manifest, options: Options, memo: dict[str, Any] | None = None):
        self.manifest = manifest
        self.options = options
        self.memo: dict[str, Any] = memo if memo is not None else {}


class OverridesContext:
    """A run overrides file being linted, with the Clarifai project it was found in (``TARGET = "overrides"``)."""

    def __init__(self, overrides: OverridesFile, project: Project, options: Options, memo: dict[str, Any] | None = None):
        self.overrides = overrides
        self.project = project
        self.options = options
        self.memo: dict[str, Any] = memo if memo is not None else {}


RuleContext = ClarifaiContext | ManifestContext | OverridesContext


def contexts(loaded: Project | Manifest, options: Options) -> Iterator[tuple[str, RuleContext]]:
    """``(target kind, context)`` for everything in a loaded project that rules check, in a stable order."""
    memo: dict[str, Any] = {}
    if not isinstance(loaded, Project):  # a PAI manifest
        yield MANIFEST, ManifestContext(loaded, options, memo)
        return
    yield CLARIFAI, ClarifaiContext(loaded, options, memo)
    for overrides in loaded.overrides:
        yield OVERRIDES, OverridesContext(overrides, loaded, options, memo)


class Hit(NamedTuple):
    """One problem found by a rule; ``severity`` overrides the rule's default when set."""

    file: str
    pos: Pos
    message: str
    path: JsonPath = ()
    severity: Severity | None = None


def at(doc: Document, path: JsonPath, message: str, *, key: bool = False, severity: Severity | None = None) -> Hit:
    """A hit at the value (or, with ``key=True``, the key) found at ``path`` in ``doc``."""
    return Hit(doc.file, doc.pos(path, key=key), message, path, severity)
