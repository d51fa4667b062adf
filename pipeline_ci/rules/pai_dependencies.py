"""Every ``dependencies`` entry of a step names another step of the same pipeline.

``spec.dependencies`` lists the sibling steps that must finish first. A name that matches no
sibling (a typo, a step of another pipeline level) leaves the run without its ordering, and a step
that depends on itself can never start. A name that matches only a sibling's identifier is
accepted here and reported as a warning by ``pai-identifier-reference``.

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
      - metadata:
          provider: pai
          identifier: type_transform
          version: v1
          name: transform
        spec:
          dependencies:
          - read

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
      - metadata:
          provider: pai
          identifier: type_transform
          version: v1
          name: transform
        spec:
          dependencies:
          - raed  # <-- no such step
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import did_you_mean
from ..platforms.pai.manifest import explicit_dependencies, nodes, resolve, step_names
from .base import Hit, ManifestContext, at

ID = "P05"
NAME = "pai-dependencies"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        if node.parent is None:
            continue
        for path, name in explicit_dependencies(node):
            target, _ = resolve(node.parent, name)
            if target is node:
                yield at(node.doc, path, f"{node.label} depends on itself; it could never start")
            elif target is None:
                names = step_names(node.parent)
                yield at(node.doc, path, f"{node.label} depends on '{name}', which is not a step of "
                                         f"{node.parent.label} (steps: {', '.join(names) or 'none'})"
                                         f"{did_you_mean(name, names)}")
