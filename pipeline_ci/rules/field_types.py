"""Values in the Argo spec have the types Argo decodes them into.

Argo decodes the spec into typed Go structs, and the Clarifai SDK checks the shape of
``steps`` and ``dag`` before upload. A wrong type is therefore a hard error: step groups must
be lists of mappings (``each step group in 'steps' must be a list``), ``dag.tasks`` a list of
mappings, ``when`` / ``withParam`` / ``depends`` / ``template`` strings (``when: true`` does not
decode), ``spec.activeDeadlineSeconds`` and ``parallelism`` integers, ``arguments.parameters``
lists of mappings. Argo is lenient where the JSON schema is not: parameter ``value`` /
``default`` / ``enum`` items accept numbers and booleans (``value: 5`` is fine), and
``retryStrategy.limit``, template ``activeDeadlineSeconds`` and ``backoff.factor`` accept an
integer or a string. ``null`` always means "not set" and is accepted.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      activeDeadlineSeconds: 3600
      arguments:
        parameters:
        - name: input_text
          value: 5
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
                value: true

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
          name: step-a  # <-- step groups must be a list of lists
          templateRef:
            name: users/u1/apps/a1/pipeline_steps/stepA
            template: users/u1/apps/a1/pipeline_steps/stepA
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..argo.fields import Obj, describe
from ..records import NamedTuple
from .base import ClarifaiContext, Hit, at
from .common import spec_objects

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

ID = "A05"
NAME = "field-types"
SEVERITY = "error"
TARGET = "clarifai"


def _int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


class Type(NamedTuple):
    """An expected type: its name in messages, a test, and for lists the type of each item."""

    label: str
    ok: Callable[[Any], bool]
    item: Type | None = None


# null is accepted everywhere: Go leaves the field unset.
STR = Type("a string", lambda v: isinstance(v, str))
INT = Type("an integer", _int)
INT_OR_STR = Type("an integer or a string", lambda v: _int(v) or isinstance(v, str))
ANY_STR = Type("a string, number or boolean", _scalar)
BOOL = Type("a boolean (true/false)", lambda v: isinstance(v, bool))
MAPPING = Type("a mapping", lambda v: isinstance(v, dict))
LIST = Type("a list", lambda v: isinstance(v, list))
LIST_OF_MAPS = Type("a list of mappings", lambda v: isinstance(v, list), MAPPING)
LIST_OF_STR = Type("a list of strings", lambda v: isinstance(v, list), STR)
LIST_OF_ANY_STR = Type("a list of strings, numbers or booleans", lambda v: isinstance(v, list), ANY_STR)

_NODE = {
    "name": STR,
    "template": STR,
    "when": STR,
    "withParam": STR,
    "onExit": STR,
    "withItems": LIST,
    "arguments": MAPPING,
    "templateRef": MAPPING,
    "continueOn": MAPPING,
    "inline": MAPPING,
    "hooks": MAPPING,
}
_TEMPLATE = {
    "name": STR,
    "activeDeadlineSeconds": INT_OR_STR,
    "parallelism": INT,
    "inputs": MAPPING,
    "outputs": MAPPING,
    "retryStrategy": MAPPING,
    "failFast": BOOL,
    "dag": MAPPING,
}
_PARAMS = {"parameters": LIST_OF_MAPS}
FIELDS: dict[str, dict[str, Type]] = {
    "WorkflowSpec": {
        "activeDeadlineSeconds": INT,
        "parallelism": INT,
        "priority": INT,
        "onExit": STR,
        "arguments": MAPPING,
        "templateDefaults": MAPPING,
        "retryStrategy": MAPPING,
        "hooks": MAPPING,
    },
    "Template": _TEMPLATE,
    "TemplateDefaults": _TEMPLATE,
    "WorkflowStep": _NODE,
    "DAGTask": {**_NODE, "depends": STR, "dependencies": LIST_OF_STR},
    "DAGTemplate": {"target": STR, "failFast": BOOL},
    "Arguments": _PARAMS,
    "Inputs": _PARAMS,
    "Outputs": _PARAMS,
    "Parameter": {
        "name": STR,
        "value": ANY_STR,
        "default": ANY_STR,
        "description": ANY_STR,
        "enum": LIST_OF_ANY_STR,
        "valueFrom": MAPPING,
        "globalName": STR,
    },
    "ValueFrom": {
        "default": ANY_STR,
        "path": STR,
        "parameter": STR,
        "expression": STR,
        "jsonPath": STR,
        "jqFilter": STR,
    },
    "RetryStrategy": {"limit": INT_OR_STR, "backoff": MAPPING, "expression": STR},
    "Backoff": {"factor": INT_OR_STR},
    "TemplateRef": {"name": STR, "template": STR, "clusterScope": BOOL},
    "ContinueOn": {"error": BOOL, "failed": BOOL},
    "LifecycleHook": {"template": STR, "expression": STR, "arguments": MAPPING, "templateRef": MAPPING},
}


def kind_of(value: Any) -> str:
    """How a YAML value reads to users: ``a list``, ``the number 5``, ``true``..."""
    if isinstance(value, bool):
        return "the boolean " + ("true" if value else "false")
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    names: dict[type, str] = {dict: "a mapping", list: "a list"}
    return names.get(type(value), type(value).__name__)


def _field_hits(doc: Any, obj: Obj) -> Iterator[Hit]:
    path = obj.path
    for key, expected in FIELDS.get(obj.kind, {}).items():
        value = obj.body.get(key)
        if value is None:
            continue
        where = f"'{key}' of {describe(obj)}"
        if not expected.ok(value):
            yield at(doc, (*path, key), f"{where} must be {expected.label}, not {kind_of(value)}")
            continue
        item = expected.item
        for i, element in enumerate(value if item else []):
            if item and element is not None and not item.ok(element):
                yield at(doc, (*path, key, i), f"each item of {where} must be {item.label}, not {kind_of(element)}")


def _steps_hits(doc: Any, path: tuple, steps: Any) -> Iterator[Hit]:
    if not isinstance(steps, list):
        yield at(doc, path, f"'steps' in template must be a list (of step groups), not {kind_of(steps)}")
        return
    for gi, group in enumerate(steps):
        if not isinstance(group, list):
            yield at(doc, (*path, gi), f"each step group in 'steps' must be a list (of steps), not {kind_of(group)}")
            continue
        for si, step in enumerate(group):
            if not isinstance(step, dict):
                yield at(doc, (*path, gi, si), f"each step in a step group must be a dict, not {kind_of(step)}")


def _dag_hits(doc: Any, path: tuple, dag: dict) -> Iterator[Hit]:
    if "tasks" not in dag:
        yield at(doc, path, "dag template must contain a 'tasks' field", key=True)
        return
    tasks = dag["tasks"]
    if not isinstance(tasks, list):
        yield at(doc, (*path, "tasks"), f"dag 'tasks' must be a list, not {kind_of(tasks)}")
        return
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            yield at(doc, (*path, "tasks", i), f"each item in dag 'tasks' must be a dict, not {kind_of(task)}")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    templates = spec.get(("spec", "templates"))
    for i, tmpl in enumerate(templates if isinstance(templates, list) else []):
        if not isinstance(tmpl, dict):
            message = f"each template in 'templates' must be a mapping, not {kind_of(tmpl)}"
            yield at(spec, ("spec", "templates", i), message)
    for obj in spec_objects(ctx):
        yield from _field_hits(spec, obj)
        if obj.kind in ("Template", "TemplateDefaults"):
            if obj.body.get("steps") is not None:
                yield from _steps_hits(spec, (*obj.path, "steps"), obj.body["steps"])
            if isinstance(obj.body.get("dag"), dict):
                yield from _dag_hits(spec, (*obj.path, "dag"), obj.body["dag"])
