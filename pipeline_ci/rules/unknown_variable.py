"""``{{...}}`` tags use known variable names, and every ``{{`` is closed by ``}}``.

Argo replaces only the variables it knows. A tag with an unknown root (``{{foo}}``, a typo such as
``{{workfow.name}}``) is left in the text as is, so the step receives the literal braces; an
unknown ``workflow.*`` name (``{{workflow.nme}}``) is rejected by ``argo lint`` (gist ``failed to
resolve {{workflow.nme}}``); a ``{{`` without ``}}`` is never replaced. All are warnings here
because such text may be intended (a script that prints braces).

Known: ``workflow.`` name, namespace, uid, mainEntrypoint, serviceAccountName, status,
creationTimestamp…, scheduledTime, duration, priority, failures, labels…, annotations…,
outputs…; ``inputs.artifacts…``, ``outputs…``, ``pod.name``, ``node.name``, ``retries``,
``lastRetry.exitCode|status|duration|message``, and ``status``, ``duration``, ``exitCode``,
``resourcesDuration…`` inside ``metrics``. ``workflow.parameters``, ``inputs.parameters``,
``steps``, ``tasks`` and ``item`` are checked by their own rules, ``{{=…}}`` by
``expression-tag``.

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
          value: "{{workflow.name}}"
      templates:
      - name: main
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
          value: "{{workflow.nme}}"  # <-- not a workflow variable
      templates:
      - name: main
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

from ..argo.variables import did_you_mean, has_prefix, spec_strings, unterminated
from ..argo.walk import tags
from ..yamldoc import JsonPath
from .base import ClarifaiContext, Hit, at

ID = "A33"
NAME = "unknown-variable"
SEVERITY = "warning"
TARGET = "clarifai"

CHECKED_ELSEWHERE = ("workflow.parameters", "inputs.parameters", "steps", "tasks", "item")
WORKFLOW_NAMES = ("name", "namespace", "uid", "mainEntrypoint", "serviceAccountName", "status", "scheduledTime",
                  "duration", "priority", "failures", "labels", "annotations")  # fmt: skip
WORKFLOW_PREFIXES = ("creationTimestamp", "labels.", "annotations.", "outputs.")
EXACT = {"pod.name", "node.name", "retries", "lastRetry.exitCode", "lastRetry.status", "lastRetry.duration",
         "lastRetry.message"}  # fmt: skip
ROOTS = ("workflow", "inputs", "outputs", "steps", "tasks", "item", "pod", "node", "retries", "lastRetry")
METRIC_ROOTS = ("status", "duration", "exitCode", "resourcesDuration")


def _problem(tag: str, path: JsonPath) -> str | None:
    if tag.startswith("=") or any(has_prefix(tag, p) for p in CHECKED_ELSEWHERE):
        return None
    root = tag.split(".", 1)[0]
    if tag in EXACT or has_prefix(tag, "inputs.artifacts") or tag.startswith("outputs."):
        return None
    if "metrics" in path and root in METRIC_ROOTS:
        return None
    if root == "workflow":
        name = tag[len("workflow.") :]
        if name in WORKFLOW_NAMES or name.startswith(WORKFLOW_PREFIXES):
            return None
        hint = did_you_mean(tag, [f"workflow.{n}" for n in (*WORKFLOW_NAMES, "creationTimestamp", "parameters")])
        return f"{{{{{tag}}}}} is not a workflow variable; argo lint rejects it (failed to resolve {{{{{tag}}}}}){hint}"
    if root in ROOTS:
        hint = did_you_mean(tag, [*EXACT, "inputs.artifacts", "inputs.parameters"])
        return f"unknown variable {{{{{tag}}}}}: Argo does not define it, so the text stays as is{hint}"
    hint = did_you_mean(root, ROOTS)
    return f"unknown variable {{{{{tag}}}}}: '{root}' is not an Argo variable, so the text stays as is{hint}"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for path, text in spec_strings(spec.data):
        for tag in tags(text):
            if message := _problem(tag, path):
                yield at(spec, path, message)
        if (start := unterminated(text)) is not None:
            snippet = text[start : start + 40].splitlines()[0]
            yield at(spec, path, f"unterminated '{{{{' in '{snippet}': it is never replaced; close it with '}}}}'")
