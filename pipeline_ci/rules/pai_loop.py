"""A loop step uses one of ``withItems`` / ``withParam`` / ``withSequence``, a positive ``parallelism`` and a
``withSequence`` whose start is not after its end.

A loop step fans its component out over ``withItems`` (a list), ``withParam`` (a reference to a
list) or ``withSequence`` (``{start, end}``), at most ``parallelism`` at a time (alipai's default is
5). With several loop sources only one can win; a ``parallelism`` that is not a positive integer and
a sequence that counts backwards run nothing or not what was meant. Warnings: the server's handling
is not documented.

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: sweep
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          provider: pai
          identifier: logisticregression_binary
          version: v1
          name: train
        spec:
          withItems: [0.01, 0.1, 1]
          parallelism: 3
          arguments:
            parameters:
            - name: regularizedLevel
              value: "{{item}}"

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: sweep
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          provider: pai
          identifier: logisticregression_binary
          version: v1
          name: train
        spec:
          withSequence:
            start: 10
            end: 1  # <-- start 10 is after end 1
          arguments:
            parameters:
            - name: maxIter
              value: "{{item}}"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..platforms.pai.manifest import LOOP_KEYS, nodes
from .base import Hit, ManifestContext, at

ID = "P13"
NAME = "pai-loop"
SEVERITY = "warning"
TARGET = "manifest"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        if not node.is_step:
            continue
        spec = node.spec
        used = [k for k in LOOP_KEYS if k in spec]
        for extra in used[1:]:
            yield at(node.doc, node.at("spec", extra), key=True,
                     message=f"{node.label} has both {used[0]} and {extra}; use only one loop source")
        if "parallelism" in spec:
            value = spec["parallelism"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                yield at(node.doc, node.at("spec", "parallelism"),
                         f"{node.label}: parallelism must be a positive integer, not {value!r}")
        seq = spec.get("withSequence")
        if isinstance(seq, dict):
            start, end = _number(seq.get("start")), _number(seq.get("end"))
            if start is not None and end is not None and start > end:
                yield at(node.doc, node.at("spec", "withSequence", "end"),
                         f"{node.label}: withSequence starts at {seq['start']!r}, after its end {seq['end']!r}")
