"""A node's inputs and outputs have distinct names: parameters and artifacts share one namespace.

PAIFlow binds arguments and overrides to a node's inputs by name alone, and alipai keeps a node's
inputs and outputs in one name → variable map ("Input variable name conflict"), so an input
parameter and an output artifact called ``model`` cannot both exist. Reported at the later
declaration.

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
        artifacts:
        - name: model_in
          metadata:
            type:
              Model:
                locationType: OSS
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
        - name: table
          type: String
          value: pai_online_project.wumai_data
        artifacts:
        - name: table  # <-- also an input parameter
          metadata:
            type:
              DataSet:
                locationType: MaxComputeTable
      pipelines: []
"""

from __future__ import annotations

from collections.abc import Iterator

from ..platforms.pai.manifest import SIDES, Entry, declarations, nodes
from .base import Hit, ManifestContext, at

ID = "P04"
NAME = "pai-io-names"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        seen: dict[str, tuple[str, Entry]] = {}
        for side in SIDES:
            for entry in declarations(node, side):
                if entry.name is None:
                    continue
                if entry.name in seen:
                    first_side, first = seen[entry.name]
                    was, now = f"{first_side[:-1]} {first.kind[:-1]}", f"{side[:-1]} {entry.kind[:-1]}"
                    yield at(node.doc, (*entry.path, "name"),
                             f"{node.label}: '{entry.name}' is declared twice, as an {was} and as an {now}; inputs "
                             "and outputs, parameters and artifacts share one namespace")
                else:
                    seen[entry.name] = (side, entry)
