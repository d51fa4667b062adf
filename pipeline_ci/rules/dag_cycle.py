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

from ..argo.dag import cycles, index
from .base import ClarifaiContext, Hit, at

ID = "A24"
NAME = "dag-cycle"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, dag in index(spec.data).items():
        for cycle in cycles(dag.deps):  # each disjoint cycle once
            head, nxt = cycle[0], cycle[1]
            i = dag.first_index[head]
            ref = next((r for r in dag.refs(i) if r.task == nxt), None)
            where = (*tpath, "dag", "tasks", i, *(ref.path if ref else ("name",)))
            what = "depends on itself" if len(cycle) == 2 else "is part of a dependency cycle"
            yield at(
                spec,
                where,
                f"task '{head}' {what}: {' -> '.join(cycle)} "
                f"(Argo: templates.{dag.template.get('name')} sorting failed: graph with cycle)",
            )
