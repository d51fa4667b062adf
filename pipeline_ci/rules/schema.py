"""Config and lockfile values have the types and required keys the Clarifai SDK needs.

Checks the root ``config.yaml``, every step ``config.yaml`` and both kinds of
``config-lock.yaml`` against the JSON Schemas shipped in the package (``pipeline-ci schema
NAME`` prints them). Every violation is reported at the offending value, not just the first:
missing ``id``/``user_id``/``app_id``, empty ids, ``argo_orchestration_spec`` that is not a
string, unquoted numbers or booleans in step input params (the SDK crashes on them at upload),
a float ``cpu_limit``, unknown compute keys, a bad ``visibility``, a missing
``pipeline_step_compute_info`` and so on. Unknown keys that the SDK merely ignores are
reported by ``unknown-key`` instead.

Passing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
      default: "5"
    pipeline_step_compute_info:
      cpu_limit: 500m

Failing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
      default: 5  # <-- must be a string
    pipeline_step_compute_info:
      cpu_limit: 500m
"""

from __future__ import annotations

from collections.abc import Iterator

from ..schema_check import SchemaIssue, check_data, targets
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at

ID = "S01"
NAME = "schema"
SEVERITY = "error"
TARGET = "clarifai"


def issues(ctx: ClarifaiContext) -> list[tuple[Document, SchemaIssue]]:
    """All schema issues of the project, computed once per lint run."""
    if "schema" not in ctx.memo:
        ctx.memo["schema"] = [(doc, issue) for doc, name in targets(ctx.project) for issue in check_data(doc.data, name)]
    return ctx.memo["schema"]


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for doc, issue in issues(ctx):
        if issue.keyword != "additionalProperties":
            yield at(doc, issue.path, issue.message, key=issue.at_key)
