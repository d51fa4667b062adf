"""Helpers shared by rules that look at every loaded document of a project."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from ..argo.fields import Obj, objects
from ..argo.variables import did_you_mean
from ..project import Project
from ..yamldoc import Document

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from .base import ClarifaiContext


def documents(project: Project) -> Iterator[Document]:
    """Root config, embedded spec, root lock and its spec, every step config and lock, then overrides files."""
    for doc in (project.config, project.spec, project.lock, project.lock_spec):
        if doc is not None:
            yield doc
    for step in project.steps:
        for doc in (step.config, step.lock):
            if doc is not None:
                yield doc
    for overrides in project.overrides:
        yield overrides.doc


def spec_objects(ctx: ClarifaiContext) -> list[Obj]:
    """Every typed mapping of the project's spec (:func:`~pipeline_ci.argo.fields.objects`; none without a spec),
    walked once per lint run for the rules that visit them all."""
    if "spec_objects" not in ctx.memo:
        spec = ctx.project.spec
        ctx.memo["spec_objects"] = list(objects(spec.data)) if spec is not None else []
    return ctx.memo["spec_objects"]


def spec_templates(ctx: ClarifaiContext) -> list[Obj]:
    """The templates among :func:`spec_objects` (what :func:`~pipeline_ci.argo.fields.all_templates` yields, from
    the one walk)."""
    return [obj for obj in spec_objects(ctx) if obj.kind == "Template"]


class Hints:
    """``"; did you mean 'x'?"`` hints (:func:`~pipeline_ci.argo.variables.did_you_mean`) within a work budget.

    Each hint compares the name with every choice, so a spec with thousands of unknown references to a list
    of thousands of names would take quadratic time; once ``budget`` comparisons are spent, the remaining
    findings come without a hint. Hints are remembered per name and list of choices.
    """

    def __init__(self, budget: int = 100_000) -> None:
        self.budget = budget
        self.memo: dict[tuple[str, int], str] = {}
        self.pinned: dict[int, Collection[str]] = {}  # keeps each list of choices alive while its id is a key

    def __call__(self, name: str, choices: Collection[str]) -> str:
        key = (name, id(choices))
        if key not in self.memo:
            if len(choices) > self.budget:
                return ""
            self.budget -= len(choices)
            self.pinned[id(choices)] = choices
            self.memo[key] = did_you_mean(name, choices)
        return self.memo[key]


def listing(names: Sequence[str], limit: int = 20) -> str:
    """``"a, b, c"``; past ``limit`` names ``"a, b, … (250 in all)"``, so messages stay short; "none" when empty."""
    if not names:
        return "none"
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, … ({len(names)} in all)"
