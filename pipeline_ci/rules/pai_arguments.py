"""Each argument has exactly one of ``value`` / ``from`` and binds an input the component has (error);
required inputs are bound (warning).

``spec.arguments`` binds a step's component inputs: ``{name, value}`` for a literal, ``{name, from}``
for a reference; an entry with both is ambiguous and one with neither binds nothing (the same
holds for each element of a repeated artifact's ``value`` list). When the component is known
offline, an inline component run by ``guid``, argument names must be among its inputs of the same
kind (alipai: "provided argument is not required"), and an input it marks ``required: true`` left
unbound is a warning (alipai: "Required arguments is not supplied"; the server may reject the run).
Registered components (provider/identifier/version) are not resolved offline.

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: table
          type: String
          value: pai_online_project.wumai_data
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
        spec:
          arguments:
            parameters:
            - name: inputTableName
              from: "{{inputs.parameters.table}}"
            - name: partition
              value: dt=20250101

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: table
          type: String
          value: pai_online_project.wumai_data
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
        spec:
          arguments:
            parameters:
            - name: inputTableName  # <-- value and from
              value: pai_online_project.wumai_data
              from: "{{inputs.parameters.table}}"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..argo.variables import did_you_mean
from ..platforms.pai.manifest import KINDS, Node, arguments, component, declared, nodes
from ..yamldoc import JsonPath
from .base import Hit, ManifestContext, at

ID = "P08"
NAME = "pai-arguments"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        for entry in arguments(node):
            label = f"{node.label}: argument '{entry.name}'" if entry.name else f"{node.label}: argument"
            yield from _binding(node, entry.path, entry.body, label)
            items = entry.body.get("value") if entry.kind == "artifacts" else None
            for i, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict):
                    yield from _binding(node, (*entry.path, "value", i), item, f"{label} element {i}")
        comp = component(ctx.manifest, node)
        if comp is not None:
            yield from _against(node, comp)


def _binding(node: Node, path: JsonPath, body: dict[str, Any], label: str) -> Iterator[Hit]:
    has = [k for k in ("value", "from") if k in body]
    if len(has) == 2:
        yield at(node.doc, (*path, "name") if "name" in body else path,
                 f"{label} has both value and from; give exactly one")
    elif not has:
        yield at(node.doc, (*path, "name") if "name" in body else path,
                 f"{label} has neither value nor from; give exactly one")


def _against(step: Node, comp: Node) -> Iterator[Hit]:
    inputs = {kind: declared(comp, "inputs", kind) for kind in KINDS}
    bound: set[str] = set()
    for entry in arguments(step):
        if entry.name is None:
            continue
        bound.add(entry.name)
        names = inputs[entry.kind]
        if names is None or entry.name in names:
            continue
        other = inputs["artifacts" if entry.kind == "parameters" else "parameters"] or {}
        hint = f"; '{entry.name}' is an input {'artifact' if entry.kind == 'parameters' else 'parameter'}" \
            if entry.name in other else did_you_mean(entry.name, names)
        yield at(step.doc, (*entry.path, "name"),
                 f"{step.label}: {comp.label} has no input {entry.kind[:-1]} '{entry.name}' "
                 f"(inputs: {', '.join(names) or 'none'}){hint} (alipai: provided argument is not required)")
    for kind in KINDS:
        for name, decl in (inputs[kind] or {}).items():
            if decl.body.get("required") is True and name not in bound:
                yield at(step.doc, step.at("metadata", "guid"), severity="warning", message=(
                    f"{step.label}: required input {kind[:-1]} '{name}' of {comp.label} is not bound "
                    "(alipai: Required arguments is not supplied)"))
