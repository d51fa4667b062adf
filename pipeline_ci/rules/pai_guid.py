"""Every step ``guid`` names an inline component document, and component guids are unique.

A step runs either a registered component (provider/identifier/version) or an inline one: its
``metadata.guid`` must then be the ``metadata.guid`` of a component document in the same manifest
(alipai writes them before the entry pipeline, as a multi-document YAML). Two component documents
with one guid make every step that uses it ambiguous.

Passing manifest::

    apiVersion: core/v1
    metadata:
      name: tmp-echo
      guid: 6f1c2a
    spec:
      inputs:
        parameters:
        - name: message
          type: String
      container:
        image: registry.cn-hangzhou.aliyuncs.com/pai-dlc/python:3.10
        command: [echo, "{{inputs.parameters.message}}"]
    ---
    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: hello
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          guid: 6f1c2a
          name: echo
        spec:
          arguments:
            parameters:
            - name: message
              value: hello

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: hello
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          guid: 6f1c2a  # <-- no component document has this guid
          name: echo
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import did_you_mean
from ..platforms.pai.manifest import components, nodes, roots
from .base import Hit, ManifestContext, at

ID = "P11"
NAME = "pai-guid"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    seen: dict[str, int] = {}
    for root in roots(ctx.manifest):
        if root.guid is None:
            continue
        if root.guid in seen:
            yield at(root.doc, ("metadata", "guid"), f"guid '{root.guid}' is already the guid of document "
                                                     f"{seen[root.guid] + 1}; component guids must be unique")
        else:
            seen[root.guid] = root.index
    known = components(ctx.manifest)
    for node in nodes(ctx.manifest):
        if node.is_step and node.guid is not None and node.guid not in known:
            yield at(node.doc, node.at("metadata", "guid"),
                     f"{node.label} runs the inline component '{node.guid}', but no document of the manifest has "
                     f"that metadata.guid (guids: {', '.join(known) or 'none'}){did_you_mean(node.guid, known)}")
