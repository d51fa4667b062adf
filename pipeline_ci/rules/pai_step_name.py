"""Step names are unique among siblings (error) and at most 30 characters long (warning).

References (``{{pipelines.<step>.outputs...}}``) and ``dependencies`` name sibling steps by
``metadata.name``, and PAIFlow addresses run nodes by name, so two siblings with one name make
both ambiguous (alipai refuses them: "Pipeline step name conflict"). alipai also refuses step names
longer than 30 characters ("Given invalid pipeline step name."); whether the server enforces the
same limit is unconfirmed, hence a warning.

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
          name: read_train
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read_test

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
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read  # <-- second step named "read"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..platforms.pai.manifest import nodes
from .base import Hit, ManifestContext, at

ID = "P03"
NAME = "pai-step-name"
SEVERITY = "error"
TARGET = "manifest"

MAX_LENGTH = 30  # alipai PipelineStep._validate_name [server limit UNCONFIRMED]


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        seen: dict[str, int] = {}
        for step in node.steps:
            name = step.name
            if name is None:
                continue
            where = step.at("metadata", "name")
            if name in seen:
                yield at(step.doc, where, f"step name '{name}' is used twice in {node.label} (first by step "
                                          f"#{seen[name] + 1}); references and dependencies would be ambiguous "
                                          "(alipai: Pipeline step name conflict)")
            else:
                seen[name] = step.index
            if len(name) > MAX_LENGTH:
                yield at(step.doc, where, f"step name '{name}' is {len(name)} characters long; alipai refuses names "
                                          f"longer than {MAX_LENGTH} (server limit unconfirmed)", severity="warning")
