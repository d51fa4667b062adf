"""References and dependencies name steps by ``metadata.name``, and names are identifier-safe tokens.

The official samples disagree: the CreatePipeline sample names its steps ``data-source`` and
``type-transform`` but references ``pipelines.data_source`` and ``dependencies: [data_source]``
(the components' identifiers), while the CreatePipelineRun sample uses one value for both. Whether
the server resolves a step by name or by identifier is unconfirmed, and alipai writes names. This
warns when a reference or a dependency matches a sibling only through its identifier, and when a
step name is not an identifier-safe token (``[A-Za-z0-9_-]``); the safe choice is a name equal to
such a token, used everywhere.

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
          name: data_source
      - metadata:
          provider: pai
          identifier: type_transform
          version: v1
          name: type_transform
        spec:
          dependencies:
          - data_source

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
          name: data-source
      - metadata:
          provider: pai
          identifier: type_transform
          version: v1
          name: type-transform
        spec:
          dependencies:
          - data_source  # <-- the identifier of step "data-source"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..lazyre import lazy_re
from ..platforms.pai.manifest import Node, explicit_dependencies, nodes, references, resolve
from .base import Hit, ManifestContext, at

ID = "P12"
NAME = "pai-identifier-reference"
SEVERITY = "warning"
TARGET = "manifest"

SAFE_NAME = lazy_re(r"^[A-Za-z0-9_-]+$")


def _only_identifier(what: str, target: Node) -> str:
    name = f"its name '{target.name}'" if target.name else "a metadata.name"
    return (f"{what} matches only the identifier of {target.label}; whether PAIFlow resolves steps by name or by "
            f"identifier is unconfirmed (alipai uses names): use {name}, or name the step '{target.identifier}'")


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        if node.is_step and node.name is not None and not SAFE_NAME.match(node.name):
            yield at(node.doc, node.at("metadata", "name"),
                     f"step name '{node.name}' is not an identifier-safe token ([A-Za-z0-9_-]); references "
                     "{{pipelines.<name>...}} and dependencies may not resolve")
        if node.parent is None:
            continue
        for path, name in explicit_dependencies(node):
            target, by_identifier = resolve(node.parent, name)
            if target is not None and by_identifier:
                yield at(node.doc, path, _only_identifier(f"dependency '{name}'", target))
    for ref in references(ctx.manifest):
        if ref.parsed and ref.parsed.root == "pipelines" and ref.parsed.step:
            target, by_identifier = resolve(ref.scope, ref.parsed.step)
            if target is not None and by_identifier:
                yield at(ref.scope.doc, ref.path, _only_identifier(f"{{{{{ref.tag}}}}}", target))
