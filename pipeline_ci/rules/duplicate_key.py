"""A mapping must not repeat a key.

YAML loaders keep the last value silently, so the first one is lost; Argo's strict decoding
rejects the document. Reported at the repeated key, in every file (including the embedded spec).

Passing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: 500m

Failing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
      id: stepB  # <-- second "id"
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: 500m
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import ClarifaiContext, Hit
from .common import documents

ID = "F02"
NAME = "duplicate-key"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for doc in documents(ctx.project):
        for problem in doc.problems:
            if problem.kind == "duplicate-key":
                yield Hit(doc.file, problem.pos, problem.message, problem.path)
