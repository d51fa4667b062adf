"""``retryStrategy`` uses a known ``retryPolicy``, an integer ``limit`` and valid backoff durations.

Argo rejects an unknown ``retryPolicy`` (``Sometimes is not a valid RetryPolicy``; the
choices are Always, OnFailure, OnError and OnTransientError). ``limit`` may be an integer, a
numeric string or an Argo variable (``limit: 3`` and ``limit: "3"`` are both fine); any other
text fails when the step is retried. ``backoff.duration``, ``backoff.maxDuration`` and
``backoff.cap`` are strings holding a Go duration (``"10s"``, ``"1m30s"``) or a number of
seconds (``"10"``): an unparsable one fails at run time, and an unquoted number does not
decode at all. Checked on ``spec.retryStrategy``, ``spec.templateDefaults`` and every template.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        retryStrategy:
          limit: 3
          retryPolicy: OnFailure
          backoff:
            duration: "10"
            factor: 2
            maxDuration: 5m
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        retryStrategy:
          limit: 3
          retryPolicy: Sometimes  # <-- not a retry policy
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.durations import argo_duration
from ..findings import json_path
from ..lazyre import lazy_re
from ..yamldoc import Document, JsonPath
from .base import ClarifaiContext, Hit, at
from .common import spec_objects

ID = "A15"
NAME = "retry-strategy"
SEVERITY = "error"
TARGET = "clarifai"

POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError")
DURATIONS = ("duration", "maxDuration", "cap")
_INT = lazy_re(r"[-+]?[0-9]+\Z")
_EXAMPLE = 'a duration such as "10s" or "1m30s", or a number of seconds in quotes ("10")'


def _strategy(doc: Document, path: JsonPath, body: dict) -> Iterator[Hit]:
    where = json_path(path)
    policy = body.get("retryPolicy")
    if policy is not None and policy != "" and policy not in POLICIES:
        message = f"{policy} is not a valid RetryPolicy ({where}.retryPolicy must be one of {', '.join(POLICIES)})"
        import difflib  # only for a hint: not imported by a clean cold lint

        close = difflib.get_close_matches(str(policy), POLICIES, n=1, cutoff=0.6)
        yield at(doc, (*path, "retryPolicy"), message + (f"; did you mean '{close[0]}'?" if close else ""))
    limit = body.get("limit")
    if isinstance(limit, str) and "{{" not in limit and not _INT.match(limit):
        message = f"{where}.limit '{limit}' is not an integer, a numeric string or an Argo variable"
        yield at(doc, (*path, "limit"), message)


def _backoff(doc: Document, path: JsonPath, body: dict) -> Iterator[Hit]:
    for key in DURATIONS:
        value = body.get(key)
        if value is None or (isinstance(value, str) and ("{{" in value or argo_duration(value) is not None)):
            continue
        where = f"{json_path(path)}.{key}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            message = f'{where} must be a string: write "{value}" (an unquoted number does not decode)'
        else:
            shown = f"'{value}'" if isinstance(value, str) else repr(value)
            message = f"{where} {shown} is not {_EXAMPLE}"
        yield at(doc, (*path, key), message)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for obj in spec_objects(ctx):
        if obj.kind == "RetryStrategy":
            yield from _strategy(spec, obj.path, obj.body)
        elif obj.kind == "Backoff":
            yield from _backoff(spec, obj.path, obj.body)
