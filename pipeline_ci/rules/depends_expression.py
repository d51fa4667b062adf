"""``depends`` parses, and it and ``dependencies`` only name tasks of the same DAG with known results.

``depends`` is a boolean expression over task results (``A && (B.Failed || !C.Skipped)``):
operators ``&&``, ``||``, ``!`` and parentheses, operands ``TASK`` or ``TASK.RESULT`` with RESULT one
of Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed
(case-sensitive). Argo rejects an unknown task (gist ``sorting failed: invalid dependency C``) or
result (``task result 'Succeded' for task 'A' is invalid``); ``A.succeeded`` is read by Argo as two
task names. ``argo lint`` does not parse the expression itself, so ``A &&`` or ``A and B`` pass it
and only fail when the DAG runs; this rule reports them. ``dependencies`` entries must also be
tasks of the DAG.

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
                value: "{{workflow.parameters.input_text}}"
          - name: task-b
            depends: task-a.Succeeded || task-a.Failed
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
            depends: task-a.Succeded  # <-- misspelt result
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

from ..argo import depends as dep
from ..argo.dag import index
from .base import ClarifaiContext, Hit, at
from .common import Hints

ID = "A23"
NAME = "depends-expression"
SEVERITY = "error"
TARGET = "clarifai"


def _unknown(task: str, names: list[str], tname: object, hint: Hints) -> str:
    argo = f"templates.{tname} sorting failed: invalid dependency {task}"
    return f"'{task}' is not a task of this DAG (Argo: {argo}){hint(task, names)}"


def _blank_error(text: object) -> dep.ExprError | None:
    """The parse error of a ``depends`` of only white space (which the DAG index reads as no ``depends``)."""
    if not isinstance(text, str) or not text or text.strip():
        return None
    try:
        dep.parse(text)
    except dep.ExprError as exc:
        return exc
    return None


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    hint = Hints()
    for tpath, dag in index(spec.data).items():
        names = [t["name"] for _, t in dag.tasks if isinstance(t.get("name"), str)]
        known = set(names)
        tname = dag.template.get("name")
        for i, task in dag.tasks:
            path = (*tpath, "dag", "tasks", i)
            who = f"task '{task.get('name')}'"
            text = task.get("depends")
            if (exc := dag.errors.get(i) or _blank_error(text)) is not None:
                yield at(
                    spec,
                    (*path, "depends"),
                    f"{who}: invalid depends expression {text!r}: {exc.message} (at character {exc.offset + 1})",
                )
                continue
            if all(name in known for name in dag.names[i]):
                continue
            reported: set[tuple] = set()
            for ref in dag.refs(i):
                if ref.task not in known and (ref.path, ref.task) not in reported:
                    reported.add((ref.path, ref.task))
                    field = "depends" if ref.path == ("depends",) else "dependencies"
                    yield at(spec, (*path, *ref.path), f"{who}: {field} names {_unknown(ref.task, names, tname, hint)}")
