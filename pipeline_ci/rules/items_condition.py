"""``.AnySucceeded`` / ``.AllFailed`` in ``depends`` only refer to tasks that loop.

``AnySucceeded`` and ``AllFailed`` are computed over the children of a fan-out task (one with
``withItems``, ``withParam`` or ``withSequence``). Argo rejects them on a task without a loop (gist
``dependency 'A' uses an items-based condition such as .AnySucceeded or .AllFailed but does not
contain any items``); use ``.Succeeded`` / ``.Failed`` there.

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
        dag:
          tasks:
          - name: task-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{item}}"
            withItems: [x, y]
          - name: task-b
            depends: task-a.AnySucceeded
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
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
        dag:
          tasks:
          - name: task-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
          - name: task-b
            depends: task-a.AnySucceeded  # <-- task-a has no loop
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.dag import depends_text, index, loops
from .base import ClarifaiContext, Hit, at

ID = "A26"
NAME = "items-condition"
SEVERITY = "error"
TARGET = "clarifai"

ITEMS_RESULTS = ("AnySucceeded", "AllFailed")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, dag in index(spec.data).items():
        tname = dag.template.get("name")
        for i, task in dag.tasks:
            text = depends_text(task)  # the results are read from depends only
            if text is None or not any(result in text for result in ITEMS_RESULTS):
                continue
            reported: set[str] = set()
            for ref in dag.refs(i):
                target = dag.by_name.get(ref.task)
                if ref.result not in ITEMS_RESULTS or target is None or loops(target) or ref.task in reported:
                    continue
                reported.add(ref.task)
                yield at(
                    spec,
                    (*tpath, "dag", "tasks", i, *ref.path),
                    f"templates.{tname}.tasks.{task.get('name')} dependency '{ref.task}' uses an items-based "
                    f"condition such as .AnySucceeded or .AllFailed but does not contain any items "
                    f"('{ref.task}.{ref.result}': '{ref.task}' has no withItems, withParam or withSequence; "
                    "use .Succeeded or .Failed)",
                )
