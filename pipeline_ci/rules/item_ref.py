"""``{{item}}`` / ``{{item.k}}`` is used only in a looping step or task, with a key the items have.

``item`` exists only inside a step or DAG task with ``withItems``, ``withParam`` or
``withSequence``; it is not passed on to the template the step calls (pass it as an argument
instead). ``argo lint`` ignores a bare ``{{item}}`` outside a loop, which then stays literal at run
time. With ``withItems`` of mappings, ``{{item.k}}`` needs ``k`` to be a key of at least one item
(``{{item.[0]}}`` an index of a list item); Argo rejects other keys (gist ``failed to resolve
{{item.nam}}``). With ``withParam`` the items are only known at run time, so any key is accepted;
``withSequence`` items are numbers and have no keys.

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
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{item.text}}"
            withItems:
            - text: hello
            - text: world

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
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{item}}"  # <-- step-a has no loop
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.dag import loops
from ..argo.variables import Site, did_you_mean, has_prefix, template_sites
from ..argo.walk import argo_string
from .base import ClarifaiContext, Hit, at

ID = "A32"
NAME = "item-ref"
SEVERITY = "error"
TARGET = "clarifai"


def _item_keys(items: list) -> list[str]:
    keys: dict[str, None] = {}
    for item in items:
        if isinstance(item, dict):
            keys.update((argo_string(k), None) for k in item)
        elif isinstance(item, list):
            keys.update((f"[{i}]", None) for i in range(len(item)))
    return list(keys)


def _problem(site: Site) -> str | None:
    tag, node = f"{{{{{site.tag}}}}}", site.node
    if node is None:
        return (
            f"{tag} is used outside a step or task: 'item' exists only in a looping step or task "
            "(pass it to the template as an argument)"
        )
    if not loops(node.body):
        return f"{tag} is used in {node.kind} '{node.name}', which has no withItems, withParam or withSequence"
    if site.tag == "item" or "withParam" in node.body:
        return None
    key = site.tag[len("item.") :]
    if "withItems" not in node.body:
        return f"failed to resolve {tag}: withSequence items are numbers without keys; use {{{{item}}}}"
    items = node.body["withItems"]
    if not isinstance(items, list):
        return None  # malformed withItems: the type rule reports it
    keys = _item_keys(items)
    if key in keys:
        return None
    listing = ", ".join(keys) or "none: the items are plain values, use {{item}}"
    hint = did_you_mean(key, keys)
    return f"failed to resolve {tag}: no item of withItems has the key '{key}' (keys: {listing}){hint}"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for site in template_sites(spec.data):
        if has_prefix(site.tag, "item") and (message := _problem(site)):
            yield at(spec, site.path, message)
