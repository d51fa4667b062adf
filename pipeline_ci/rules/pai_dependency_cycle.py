"""The steps of a pipeline do not depend on each other in a cycle; implicit dependencies are listed (warning).

A step depends on the siblings in its ``dependencies`` and, implicitly, on every sibling whose
outputs it references in ``from``, ``when``, ``withParam`` (or any other argument string): alipai
adds those to ``dependencies`` itself. PAIFlow sorts the steps topologically (Kahn's algorithm) and
refuses a cycle (alipai: "Cycle dependency detected"); this rule names it, e.g. ``a -> b -> a`` (a
depends on b, which depends on a), at the first edge of the path. A reference whose step is missing
from the explicit ``dependencies`` is a warning: whether the server infers the edge by itself is
unconfirmed, so write it down.

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
          arguments:
            artifacts:
            - name: inputTable
              from: "{{pipelines.read.outputs.artifacts.outputTable}}"

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
        spec:
          dependencies:
          - transform  # <-- read -> transform -> read
      - metadata:
          provider: pai
          identifier: type_transform
          version: v1
          name: transform
        spec:
          dependencies:
          - read
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.dag import cycles
from ..platforms.pai.manifest import Node, explicit_dependencies, nodes, resolve, sibling_refs
from ..yamldoc import JsonPath
from .base import Hit, ManifestContext, at

ID = "P06"
NAME = "pai-dependency-cycle"
SEVERITY = "error"
TARGET = "manifest"


def _name(step: Node) -> str:
    return step.name or step.identifier or f"#{step.index + 1}"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for parent in nodes(ctx.manifest):
        steps = parent.steps
        deps: dict[int, list[int]] = {s.index: [] for s in steps}
        where: dict[tuple[int, int], JsonPath] = {}
        for step in steps:
            explicit: set[int] = set()
            targets: dict[int, None] = {}  # this step's edges, in order
            for path, name in explicit_dependencies(step):
                target, _ = resolve(parent, name)
                if target is not None and target is not step:  # a self-dependency is pai-dependencies' finding
                    explicit.add(target.index)
                    where.setdefault((step.index, target.index), path)
                    targets[target.index] = None
            warned: set[int] = set()
            for ref, target, _ in sibling_refs(step):
                where.setdefault((step.index, target.index), ref.path)
                targets[target.index] = None
                if target is not step and target.index not in explicit and target.index not in warned:
                    warned.add(target.index)
                    yield at(step.doc, ref.path, severity="warning", message=(
                        f"{step.label} uses {{{{{ref.tag}}}}} but does not list '{_name(target)}' in its "
                        "dependencies; alipai adds it, whether the server infers it is unconfirmed"))
            deps[step.index] = list(targets)
        by_index = {s.index: s for s in steps}
        for cycle in cycles(deps):  # each disjoint cycle once
            head = by_index[cycle[0]]
            chain = " -> ".join(_name(by_index[i]) for i in cycle)
            what = "depends on itself" if len(cycle) == 2 else "is part of a dependency cycle"
            yield at(head.doc, where[(cycle[0], cycle[1])],
                     f"{head.label} {what}: {chain} (alipai: Cycle dependency detected)")
