"""A ``from`` connects declarations of the same type: parameter types equal, artifact metadata equal.

When both ends of a ``from`` are declared — the source (an input of the enclosing pipeline, or an
output of an inline ``guid`` component a sibling step runs) and the target (a pipeline output, or
an input of the inline component the step runs) — their parameter ``type`` must be equal (``List``
and ``Array`` count as one) and their artifact ``metadata.type`` (DataType, location type and
attributes) must be equal, unless either DataType is ``Any``. alipai rejects mismatches when it
builds the pipeline. Ends that are not declared (registered components, untyped parameters) are
not compared.

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: threshold
          type: Double
          value: 0.5
      outputs:
        parameters:
        - name: used_threshold
          type: Double
          from: "{{inputs.parameters.threshold}}"
      pipelines: []

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: threshold
          type: Double
          value: 0.5
      outputs:
        parameters:
        - name: used_threshold
          type: Int
          from: "{{inputs.parameters.threshold}}"  # <-- Double into Int
      pipelines: []
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..platforms.pai.manifest import (
    KINDS,
    SINGLE_TAG_RE,
    TAG_RE,
    Entry,
    Node,
    arguments,
    component,
    declarations,
    declared,
    nodes,
    parse,
    resolve,
    same_type,
)
from .base import Hit, ManifestContext, at

ID = "P10"
NAME = "pai-from-types"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        for entry in declarations(node, "outputs"):
            yield from _compare(ctx, node, entry, entry, node, f"{node.label}: output '{entry.name}'")
        comp = component(ctx.manifest, node)
        if comp is None or node.parent is None:
            continue
        for entry in arguments(node):
            target = (declared(comp, "inputs", entry.kind) or {}).get(entry.name or "")
            if target is not None:
                yield from _compare(ctx, node, entry, target, node.parent, f"{node.label}: argument '{entry.name}'")


def _source(ctx: ManifestContext, scope: Node, text: Any, kind: str) -> Entry | None:
    """The declaration a ``from`` string points at, when it is known."""
    if not isinstance(text, str) or not SINGLE_TAG_RE.match(text):
        return None
    parsed = parse(TAG_RE.search(text).group(1).strip())  # type: ignore[union-attr]
    if parsed is None or parsed.kind != kind or parsed.name is None:
        return None
    if parsed.root == "inputs":
        return (declared(scope, "inputs", kind) or {}).get(parsed.name)
    if parsed.root == "pipelines" and parsed.step:
        step, _ = resolve(scope, parsed.step)
        comp = component(ctx.manifest, step) if step is not None else None
        return (declared(comp, "outputs", kind) or {}).get(parsed.name) if comp is not None else None
    return None


def _data_type(decl: Entry) -> tuple[str | None, Any]:
    meta = decl.body.get("metadata")
    kind = meta.get("type") if isinstance(meta, dict) else None
    if isinstance(kind, dict) and len(kind) == 1:
        return next(iter(kind)), kind
    return None, kind


def _compare(ctx: ManifestContext, node: Node, entry: Entry, target: Entry, scope: Node, label: str) -> Iterator[Hit]:
    if entry.kind not in KINDS or "from" not in entry.body:
        return
    source = _source(ctx, scope, entry.body["from"], entry.kind)
    if source is None:
        return
    path, ref = (*entry.path, "from"), str(entry.body["from"]).strip()
    if entry.kind == "parameters":
        want, got = target.body.get("type"), source.body.get("type")
        if isinstance(want, str) and isinstance(got, str) and not same_type(want, got):
            yield at(node.doc, path, f"{label} is {want} but {ref} is {got}; alipai rejects a from between "
                                     "different parameter types")
        return
    (want_type, want), (got_type, got) = _data_type(target), _data_type(source)
    if want_type and got_type and "Any" not in (want_type, got_type) and want != got:
        yield at(node.doc, path, f"{label} has artifact metadata.type {json.dumps(want)} but {ref} has "
                                 f"{json.dumps(got)}; alipai "
                                 "rejects a from between different artifact types (unless one is Any)")
