"""Helpers shared by rules that look at every loaded document of a project."""

from __future__ import annotations

from collections.abc import Iterator

from ..project import Project
from ..yamldoc import Document


def documents(project: Project) -> Iterator[Document]:
    """Root config, embedded spec, root lock and its spec, every step config and lock, then overrides files."""
    for doc in (project.config, project.spec, project.lock, project.lock_spec):
        if doc is not None:
            yield doc
    for step in project.steps:
        for doc in (step.config, step.lock):
            if doc is not None:
                yield doc
    yield from project.overrides
