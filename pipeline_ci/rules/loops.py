"""A step or task fans out over at most one of ``withItems``, ``withParam`` and ``withSequence``, each well formed.

Argo rejects a step or task with more than one loop source (gist ``only one of withItems,
withParam, withSequence can be specified``) and a ``withSequence`` with both ``count`` and ``end``
(``only one of count or end can be defined in withSequence``). Checked here although ``argo lint``
lets them pass, because the run fails: a ``withSequence`` with neither ``count`` nor ``end``
(``neither end nor count was specified in withSequence``), ``count`` / ``start`` / ``end`` values
that are not integers (strings with ``{{...}}`` are fine), a literal ``withParam`` (one without
``{{``) that is not a JSON list (``withParam value could not be parsed as a JSON list``), and
``null`` entries in ``withItems``.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{item}}"
            withParam: '["a", "b"]'

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{item}}"
            withItems: [a, b]
            withParam: '["a", "b"]'  # <-- two loop sources
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import LOOP_KEYS, Node, nodes
from ..lazyre import lazy_re
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at

ID = "A19"
NAME = "loops"
SEVERITY = "error"
TARGET = "clarifai"

INT_RE = lazy_re(r"^\s*[-+]?[0-9]+\s*$")


def _defined(body: dict, key: str) -> bool:
    """Whether Argo counts the loop source as set (non-empty list / non-empty string / any sequence)."""
    value = body.get(key)
    if key == "withSequence":
        return value is not None
    return bool(value)


def _sequence(spec: Document, node: Node, what: str) -> Iterator[Hit]:
    seq = node.body.get("withSequence")
    if not isinstance(seq, dict):
        return
    path = (*node.path, "withSequence")
    has = {k: seq.get(k) is not None for k in ("count", "end")}
    if has["count"] and has["end"]:
        yield at(spec, (*path, "end"), f"{what}: only one of count or end can be defined in withSequence", key=True)
    elif not any(has.values()):
        yield at(spec, path, f"{what}: neither end nor count was specified in withSequence", key=True)
    for key in ("count", "start", "end"):
        value = seq.get(key)
        if isinstance(value, str) and "{{" not in value and not INT_RE.match(value):
            yield at(spec, (*path, key), f"{what}: withSequence.{key} '{value}' is not an integer")


def _param(spec: Document, node: Node, what: str) -> Iterator[Hit]:
    text = node.body.get("withParam")
    if not isinstance(text, str) or not text or "{{" in text:
        return
    import json  # only for a literal withParam: not imported by a cold lint without one

    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        yield at(
            spec,
            (*node.path, "withParam"),
            f"{what}: withParam value could not be parsed as a JSON list: {text!r} (write a JSON list such as "
            '\'["a", "b"]\', or use withItems for a literal YAML list)',
        )


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for node in nodes(spec.data):
        what = f"{node.kind} '{node.name}'"
        used = [k for k in LOOP_KEYS if _defined(node.body, k)]
        if len(used) > 1:
            yield at(
                spec,
                (*node.path, used[1]),
                f"{what} sets {' and '.join(used)}: only one of withItems, withParam, withSequence can be specified",
                key=True,
            )
        yield from _sequence(spec, node, what)
        yield from _param(spec, node, what)
        items = node.body.get("withItems")
        for i, item in enumerate(items if isinstance(items, list) else []):
            if item is None:
                yield at(spec, (*node.path, "withItems", i), f"{what}: unsupported withItems type: null item")
