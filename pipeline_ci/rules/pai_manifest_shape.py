"""A PAI manifest has ``apiVersion: core/v1``, the metadata triple, and the documented shape.

PAIFlow identifies a pipeline by ``metadata.provider`` + ``identifier`` + ``version`` (all required,
see "PAI-Flow manifest parameters": https://www.alibabacloud.com/help/en/pai/developer-reference/pipeline-manifest);
a step names the component it runs the same way, unless it runs an inline component by
``metadata.guid`` (inline component documents carry a guid instead of the triple). ``apiVersion``
must be ``core/v1``, the only supported value: documents must state it, steps may omit it (alipai
does). Every document needs a ``spec`` mapping. Also checked: the type of every documented key
(``spec.inputs``/``outputs``/``arguments`` hold ``parameters`` and ``artifacts`` lists of mappings,
each with a ``name``; ``spec.pipelines`` is a list of step mappings; ``dependencies`` a list of
names; ``when``/``withParam`` strings; ``withItems`` a list; containers mappings, ...). Unknown keys
are not reported (frozen and Terraform manifests add some).

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
      - apiVersion: core/v1
        metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: data_source
        spec:
          arguments:
            parameters:
            - name: inputTableName
              from: "{{inputs.parameters.table}}"

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      pipelines:
      - metadata:  # <-- no version
          provider: pai
          identifier: data_source
          name: data_source
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..platforms.pai.manifest import API_VERSION, KINDS, Node, nodes
from ..yamldoc import JsonPath
from .base import Hit, ManifestContext, at

ID = "P02"
NAME = "pai-manifest-shape"
SEVERITY = "error"
TARGET = "manifest"

TRIPLE = ("provider", "identifier", "version")
META_STRINGS = ("name", "displayName", "guid")
SPEC_TYPES: dict[str, type] = {
    "inputs": dict, "outputs": dict, "arguments": dict, "pipelines": list, "dependencies": list, "when": str,
    "withItems": list, "withParam": str, "withSequence": dict, "container": dict, "initContainers": list,
    "sideCarContainers": list, "volumes": list,
}
TYPE_NAMES: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        yield from _api_version(node)
        yield from _metadata(node)
        yield from _spec(node)


def _api_version(node: Node) -> Iterator[Hit]:
    if "apiVersion" not in node.body:
        if not node.is_step:
            yield at(node.doc, node.path, f"{node.label}: apiVersion is missing (it must be '{API_VERSION}')")
    elif node.body["apiVersion"] != API_VERSION:
        yield at(node.doc, node.at("apiVersion"),
                 f"{node.label}: apiVersion is {node.body['apiVersion']!r}; PAIFlow supports only '{API_VERSION}'")


def _metadata(node: Node) -> Iterator[Hit]:
    meta = node.body.get("metadata")
    if not isinstance(meta, dict):
        where = node.at("metadata") if "metadata" in node.body else node.path
        what = "is missing" if "metadata" not in node.body else f"is {_kind(meta)}, not a mapping"
        yield at(node.doc, where, f"{node.label}: metadata {what} (it names the component: provider, identifier, "
                                  "version)")
        return
    for key in META_STRINGS:
        if key in meta and not (isinstance(meta[key], str) and meta[key]):
            yield at(node.doc, node.at("metadata", key), f"{node.label}: metadata.{key} must be a non-empty string, "
                                                        f"not {_kind(meta[key])}")
    if node.guid is not None:  # an inline component, or a step running one: no registered triple
        return
    missing = [k for k in TRIPLE if k not in meta]
    if missing:
        what = "step" if node.is_step else "pipeline"
        yield at(node.doc, node.at("metadata"), key=True, message=(
            f"{node.label}: metadata.{' and metadata.'.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            f"missing; a {what} that does not run an inline component by guid needs provider, identifier and "
            "version"))
    for key in TRIPLE:
        value = meta.get(key)
        if key in meta and (value is None or value == "" or isinstance(value, bool | dict | list)):
            yield at(node.doc, node.at("metadata", key),
                     f"{node.label}: metadata.{key} must be a non-empty string, not {_kind(value)}")


def _spec(node: Node) -> Iterator[Hit]:
    spec = node.body.get("spec")
    if spec is None:
        if not node.is_step:
            where = node.at("spec") if "spec" in node.body else node.path
            yield at(node.doc, where, f"{node.label}: spec is missing or empty (inputs, outputs, pipelines, ...)")
        return
    if not isinstance(spec, dict):
        yield at(node.doc, node.at("spec"), f"{node.label}: spec must be a mapping, not {_kind(spec)}")
        return
    for key, expected in SPEC_TYPES.items():
        value = spec.get(key)
        if value is not None and not isinstance(value, expected):
            yield at(node.doc, node.at("spec", key),
                     f"{node.label}: spec.{key} must be {TYPE_NAMES[expected]}, not {_kind(value)}")
    for key in ("inputs", "outputs", "arguments"):
        if isinstance(spec.get(key), dict):
            yield from _entries(node, key, spec[key])
    for i, step in enumerate(spec["pipelines"] if isinstance(spec.get("pipelines"), list) else []):
        if not isinstance(step, dict):
            yield at(node.doc, node.at("spec", "pipelines", i),
                     f"{node.label}: spec.pipelines[{i}] must be a step mapping, not {_kind(step)}")
    for i, dep in enumerate(spec["dependencies"] if isinstance(spec.get("dependencies"), list) else []):
        if not isinstance(dep, str):
            yield at(node.doc, node.at("spec", "dependencies", i),
                     f"{node.label}: spec.dependencies[{i}] must be a step name, not {_kind(dep)}")


def _entries(node: Node, key: str, holder: dict) -> Iterator[Hit]:
    for kind in KINDS:
        items = holder.get(kind)
        base: JsonPath = node.at("spec", key, kind)
        if items is None:
            continue
        if not isinstance(items, list):
            yield at(node.doc, base, f"{node.label}: spec.{key}.{kind} must be a list, not {_kind(items)}")
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                yield at(node.doc, (*base, i), f"{node.label}: spec.{key}.{kind}[{i}] must be a mapping with a name, "
                                               f"not {_kind(item)}")
            elif not (isinstance(item.get("name"), str) and item["name"]):
                where = (*base, i, "name") if "name" in item else (*base, i)
                yield at(node.doc, where, f"{node.label}: spec.{key}.{kind}[{i}] needs a name (a non-empty string)")
