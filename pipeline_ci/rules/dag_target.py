"""Every name in ``dag.target`` is a task of that DAG.

``dag.target`` is a space-separated list of the tasks to run (with their dependencies) instead of
the whole DAG; it also decides which branches make the DAG fail. Argo rejects a name that is not a
task (gist ``templates.main.targets: target 'Y' is not defined``). Entries that are ``{{...}}``
variables are resolved at run time and skipped here.

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
          target: task-a
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
          target: task-a task-c  # <-- no task-c
          tasks:
          - name: task-a
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

from ..argo.walk import dag_tasks, templates
from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at
from .common import listing

ID = "A27"
NAME = "dag-target"
SEVERITY = "error"
TARGET = "clarifai"

PARAMETER_RE = lazy_re(r"\{\{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*\}\}")  # Argo's isParameter


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for tpath, tmpl in templates(spec.data):
        dag = tmpl.get("dag")
        target = dag.get("target") if isinstance(dag, dict) else None
        if not isinstance(target, str):
            continue
        names = {t["name"] for _, t in dag_tasks(tmpl) if isinstance(t.get("name"), str)}
        listed = ""
        for word in dict.fromkeys(target.split()):
            if "{{" in word or PARAMETER_RE.search(word) or word in names:
                continue
            listed = listed or listing(sorted(names))
            yield at(
                spec,
                (*tpath, "dag", "target"),
                f"templates.{tmpl.get('name')}.targets: target '{word}' is not defined (tasks: {listed})",
            )
