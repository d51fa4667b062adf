"""Parameter types are known (error), values fit their type (warning) and lie in ``feasible.range`` (error).

A parameter declaration's ``type`` is one of ``String``, ``Int``, ``Double``, ``Bool``, ``Map``,
``List`` (the docs) or ``Array`` (what alipai emits for lists); names are case-sensitive. A default
``value`` should have the YAML type the parameter expects (Int: an integer, Double: a number, Bool:
true/false, String: a string, Map: a mapping, List/Array: a sequence); PAIFlow's conversion of other
values is not documented, hence a warning. A numeric value must lie inside the declaration's
``feasible.range`` (``[lo, hi)``: brackets inclusive, parentheses exclusive, ``INF``/``-INF``
allowed), and the range must be readable. Arguments bound to the inputs of an inline ``guid``
component are checked against its declarations the same way.

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
          feasible:
            range: "[0, 1]"
        - name: columns
          type: Array
          value: [time, hour, pm2]
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
          type: Float  # <-- not a PAI type
          value: 0.5
      pipelines: []
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..argo.variables import did_you_mean
from ..platforms.pai.manifest import (
    PARAM_TYPES,
    SIDES,
    Entry,
    Node,
    arguments,
    component,
    declarations,
    declared,
    fits_type,
    nodes,
    parse_range,
)
from ..yamldoc import JsonPath
from .base import Hit, ManifestContext, at

ID = "P09"
NAME = "pai-parameter-types"
SEVERITY = "error"
TARGET = "manifest"

YAML_TYPES = {"Int": "an integer", "Double": "a number", "Bool": "true or false", "String": "a string",
              "Map": "a mapping", "List": "a sequence", "Array": "a sequence"}


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        for side in SIDES:
            for entry in declarations(node, side, ("parameters",)):
                yield from _type(node, entry)
                if "value" in entry.body:
                    yield from _value(node, (*entry.path, "value"), entry.body["value"], entry, entry)
        comp = component(ctx.manifest, node)
        inputs = declared(comp, "inputs", "parameters") if comp is not None else None
        for arg in arguments(node) if inputs else ():
            if inputs and arg.kind == "parameters" and arg.name in inputs and "value" in arg.body:
                yield from _value(node, (*arg.path, "value"), arg.body["value"], inputs[arg.name], arg)


def _show(value: Any) -> str:
    """A value as YAML/JSON shows it (``true``, ``"5"``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _type(node: Node, entry: Entry) -> Iterator[Hit]:
    if "type" not in entry.body:
        return
    kind = entry.body["type"]
    if not isinstance(kind, str) or kind not in PARAM_TYPES:
        close = [t for t in PARAM_TYPES if isinstance(kind, str) and t.lower() == kind.lower()]
        hint = f"; did you mean '{close[0]}'?" if close else did_you_mean(str(kind), PARAM_TYPES)
        yield at(node.doc, (*entry.path, "type"),
                 f"{node.label}: parameter '{entry.name}' has type {kind!r}; PAI parameter types are "
                 f"{', '.join(PARAM_TYPES)}{hint}")


def _value(node: Node, path: JsonPath, value: Any, decl: Entry, holder: Entry) -> Iterator[Hit]:
    """Check ``value`` (at ``path``) against the declaration ``decl``; ``holder`` names it in messages."""
    if value is None or isinstance(value, str) and "{{" in value:
        return
    kind = decl.body.get("type")
    if isinstance(kind, str) and kind in PARAM_TYPES and not fits_type(kind, value):
        yield at(node.doc, path, severity="warning", message=(
            f"{node.label}: parameter '{holder.name}' is {kind} but its value {_show(value)} is not "
            f"{YAML_TYPES[kind]}"))
    feasible = decl.body.get("feasible")
    if not isinstance(feasible, dict) or "range" not in feasible:
        return
    bounds = parse_range(feasible["range"])
    if bounds is None:
        if decl is holder:
            yield at(node.doc, (*decl.path, "feasible", "range"),
                     f"{node.label}: parameter '{decl.name}' has feasible.range {feasible['range']!r}; expected "
                     "'[lo, hi]' with brackets '[' ']' (inclusive) or '(' ')' (exclusive), numbers or INF/-INF")
        return
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and not bounds.contains(number):
        yield at(node.doc, path, f"{node.label}: parameter '{holder.name}' value {_show(value)} is outside its "
                                 f"feasible.range {feasible['range']}")
