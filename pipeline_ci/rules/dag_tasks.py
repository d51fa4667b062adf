"""A DAG template has at least one task, and every task has a valid, unique name.

Argo rejects an empty DAG (gist ``templates.main must have at least one task``) and task names
that are missing, do not match ``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (no ``_`` or ``.``), are longer
than 128 characters or repeat within the DAG (gists ``templates.main.tasks[0].name is required``,
``... sorting failed: duplicated nodeName A``, ``... 'a_b' is invalid``). Task names are what
``depends``, ``{{tasks.NAME...}}`` and ``dag.target`` refer to.

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
          - name: task_a  # <-- '_' is not allowed
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

from ..argo.names import name_problems
from ..argo.walk import dag_tasks, templates
from .base import ClarifaiContext, Hit, at

ID = "A22"
NAME = "dag-tasks"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, tmpl in templates(spec.data):
        dag = tmpl.get("dag")
        if not isinstance(dag, dict):
            continue
        tname = tmpl.get("name")
        raw = dag.get("tasks")
        if raw is None or raw == []:
            where = (*tpath, "dag", "tasks") if "tasks" in dag else (*tpath, "dag")
            yield at(spec, where, f"templates.{tname} must have at least one task", key=True)
            continue
        seen: set[str] = set()
        for i, task in dag_tasks(tmpl):
            path = (*tpath, "dag", "tasks", i)
            name = task.get("name")
            if name is None or name == "":
                yield at(spec, path, f"templates.{tname}.tasks[{i}].name is required: every task needs a name")
                continue
            if not isinstance(name, str):
                continue  # a type error, reported by field-types
            if problems := name_problems(name):
                yield at(
                    spec,
                    (*path, "name"),
                    f"templates.{tname}.tasks[{i}].name: '{name}' is invalid: {'; '.join(problems)}",
                )
            if name in seen:
                yield at(
                    spec,
                    (*path, "name"),
                    f"templates.{tname}.tasks[{i}].name '{name}' is not unique "
                    f"(Argo: templates.{tname} sorting failed: duplicated nodeName {name})",
                )
            seen.add(name)
