"""The tasks of a DAG do not depend on each other in a cycle (a task depending on itself included).

Argo sorts the tasks topologically before anything else and rejects a cycle (gist ``sorting
failed: graph with cycle``) without saying which tasks form it. This rule names the cycle, e.g.
``A -> B -> A`` (A depends on B, which depends on A), and reports it at the ``depends`` or
``dependencies`` of the first task on the path. Dependencies are read from both ``depends`` and
``dependencies``.

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
            depends: task-a
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
            depends: task-b  # <-- task-a -> task-b -> task-a
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

from ..argo.dag import dependency_refs, find_cycle, graph
from ..argo.walk import dag_tasks, templates
from .base import Context, Hit, at

ID = "A24"
NAME = "dag-cycle"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, tmpl in templates(spec.data):
        deps = graph(tmpl)
        first_index: dict[str, int] = {}
        for i, task in dag_tasks(tmpl):
            if isinstance(task.get("name"), str):
                first_index.setdefault(task["name"], i)
        while cycle := find_cycle(deps):
            head, nxt = cycle[0], cycle[1]
            i = first_index[head]
            task = dict(dag_tasks(tmpl))[i]
            ref = next((r for r in dependency_refs(task) if r.task == nxt), None)
            where = (*tpath, "dag", "tasks", i, *(ref.path if ref else ("name",)))
            what = "depends on itself" if len(cycle) == 2 else "is part of a dependency cycle"
            yield at(
                spec,
                where,
                f"task '{head}' {what}: {' -> '.join(cycle)} "
                f"(Argo: templates.{tmpl.get('name')} sorting failed: graph with cycle)",
            )
            for name in cycle:  # report each disjoint cycle once
                deps.pop(name, None)
            deps = {k: [d for d in v if d in deps] for k, v in deps.items()}
