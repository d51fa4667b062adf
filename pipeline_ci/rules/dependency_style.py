"""A DAG uses one dependency style: not both ``depends`` and ``dependencies``, and no ``continueOn`` with ``depends``.

Argo rejects a DAG where some tasks use ``depends`` and others ``dependencies`` (gist ``cannot use
both 'depends' and 'dependencies' in the same DAG template``), a ``continueOn`` on any task of a
DAG that uses ``depends`` (``cannot use 'continueOn' when using 'depends'. Instead use
'dep-task.Failed'/'dep-task.Errored'``), and, when dependencies are used, task names starting with
a digit (``name cannot begin with a digit when using either 'depends' or 'dependencies'``).
Prefer ``depends``: it can express "run B when A failed" (``A.Failed``) without ``continueOn``.

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
            continueOn:  # <-- not allowed with depends
              failed: true
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
          - name: task-b
            depends: task-a
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

from ..argo.walk import dag_tasks, templates
from .base import ClarifaiContext, Hit, at

ID = "A25"
NAME = "dependency-style"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, tmpl in templates(spec.data):
        tasks = dag_tasks(tmpl)
        tname = tmpl.get("name")
        using_depends = any(isinstance(t.get("depends"), str) and t["depends"] for _, t in tasks)
        for i, task in tasks:
            path = (*tpath, "dag", "tasks", i)
            name = task.get("name")
            has_dependencies = isinstance(task.get("dependencies"), list) and bool(task["dependencies"])
            if (using_depends or has_dependencies) and isinstance(name, str) and "0" <= name[:1] <= "9":
                yield at(
                    spec,
                    (*path, "name"),
                    f"templates.{tname}.tasks.{name} name cannot begin with a digit when using either 'depends' "
                    "or 'dependencies'",
                )
            if using_depends and has_dependencies:
                yield at(
                    spec,
                    (*path, "dependencies"),
                    f"task '{name}': templates.{tname} cannot use both 'depends' and 'dependencies' in the same DAG "
                    f'template (write it as depends: "{" && ".join(map(str, task["dependencies"]))}")',
                    key=True,
                )
            if using_depends and task.get("continueOn") is not None:
                yield at(
                    spec,
                    (*path, "continueOn"),
                    f"task '{name}': templates.{tname} cannot use 'continueOn' when using 'depends'. Instead use "
                    f"'{name}.Failed'/'{name}.Errored' in the depends of the tasks that follow it",
                    key=True,
                )
