"""The fields of the Argo objects a pipeline spec is made of, and a walk that types each mapping.

Field names come from Argo's Go types (``pkg/apis/workflow/v1alpha1/workflow_types.go``, v3.4
to v4.x, including deprecated fields that still decode) plus Kubernetes ``ObjectMeta``. Only the
objects pipelines actually use are typed; everything below an untyped field (a container, a
volume, an artifact, ...) is left alone. :func:`objects` yields every typed mapping with its
JSON path, skipping shapes that do not match (a string where a mapping belongs): the type rule
reports those.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import json_path
from ..records import NamedTuple
from ..yamldoc import JsonPath

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

_STEP_FIELDS = (
    "name template templateRef inline arguments when withItems withParam withSequence continueOn onExit hooks"
)
_TEMPLATE_FIELDS = (
    "name inputs outputs nodeSelector affinity metadata daemon steps container containerSet script resource dag"
    " suspend data http plugin volumes initContainers sidecars archiveLocation activeDeadlineSeconds"
    " retryStrategy parallelism failFast tolerations schedulerName priorityClassName priority serviceAccountName"
    " automountServiceAccountToken executor hostAliases securityContext podSpecPatch metrics synchronization"
    " memoize timeout pendingTimeout podResources resourceClaims"
)

#: Known keys of each typed object.
KNOWN: dict[str, frozenset[str]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "Workflow": "apiVersion kind metadata spec status",
        "ObjectMeta": "name generateName namespace selfLink uid resourceVersion generation creationTimestamp"
        " deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers"
        " managedFields clusterName",
        "WorkflowSpec": "templates entrypoint arguments serviceAccountName automountServiceAccountToken executor"
        " volumes volumeClaimTemplates parallelism artifactRepositoryRef suspend nodeSelector affinity"
        " tolerations imagePullSecrets hostNetwork dnsPolicy dnsConfig onExit ttlStrategy activeDeadlineSeconds"
        " priority schedulerName podGC podPriorityClassName podPriority hostAliases securityContext podSpecPatch"
        " podDisruptionBudget metrics shutdown workflowTemplateRef synchronization volumeClaimGC retryStrategy"
        " podMetadata templateDefaults archiveLogs hooks workflowMetadata artifactGC podResources executorPlugins",
        "Template": _TEMPLATE_FIELDS,
        "TemplateDefaults": _TEMPLATE_FIELDS,
        "WorkflowStep": _STEP_FIELDS,
        "DAGTemplate": "tasks target failFast",
        "DAGTask": _STEP_FIELDS + " dependencies depends",
        "Arguments": "parameters artifacts",
        "Inputs": "parameters artifacts",
        "Outputs": "parameters artifacts result exitCode",
        "Parameter": "name default value valueFrom globalName enum description",
        "ValueFrom": "path jsonPath jqFilter event parameter supplied configMapKeyRef default expression",
        "RetryStrategy": "limit retryPolicy backoff affinity expression",
        "Backoff": "duration factor maxDuration cap",
        "TemplateRef": "name template clusterScope",
        "ContinueOn": "error failed",
        "Sequence": "count start end format",
        "LifecycleHook": "template arguments templateRef expression",
        "Metadata": "annotations labels",
        "WorkflowMetadata": "labels annotations labelsFrom",
        "TTLStrategy": "secondsAfterCompletion secondsAfterSuccess secondsAfterFailure",
        "PodGC": "strategy labelSelector deleteDelayDuration",
        "WorkflowTemplateRef": "name clusterScope",
    }.items()
}

#: How users call each object in messages; named objects add their name (see :func:`describe`).
LABELS: dict[str, str] = {
    "Workflow": "the Workflow",
    "ObjectMeta": "metadata",
    "WorkflowSpec": "spec",
    "Template": "template",
    "TemplateDefaults": "spec.templateDefaults",
    "WorkflowStep": "step",
    "DAGTemplate": "dag",
    "DAGTask": "DAG task",
    "Arguments": "arguments",
    "Inputs": "inputs",
    "Outputs": "outputs",
    "Parameter": "parameter",
    "ValueFrom": "valueFrom",
    "RetryStrategy": "retryStrategy",
    "Backoff": "retryStrategy.backoff",
    "TemplateRef": "templateRef",
    "ContinueOn": "continueOn",
    "Sequence": "withSequence",
    "LifecycleHook": "hook",
    "Metadata": "metadata",
    "WorkflowMetadata": "workflowMetadata",
    "TTLStrategy": "ttlStrategy",
    "PodGC": "podGC",
    "WorkflowTemplateRef": "workflowTemplateRef",
}
_NAMED = ("Template", "WorkflowStep", "DAGTask", "Parameter")

# Shapes of typed children: one mapping, a list of mappings, a list of lists of mappings (step
# groups) or a mapping of mappings (hooks by event name).
ONE, LIST, GROUPS, MAP = "one", "list", "groups", "map"
_NODE_CHILDREN = {
    "arguments": ("Arguments", ONE),
    "templateRef": ("TemplateRef", ONE),
    "inline": ("Template", ONE),
    "continueOn": ("ContinueOn", ONE),
    "withSequence": ("Sequence", ONE),
    "hooks": ("LifecycleHook", MAP),
}
_TEMPLATE_CHILDREN = {
    "inputs": ("Inputs", ONE),
    "outputs": ("Outputs", ONE),
    "metadata": ("Metadata", ONE),
    "steps": ("WorkflowStep", GROUPS),
    "dag": ("DAGTemplate", ONE),
    "retryStrategy": ("RetryStrategy", ONE),
}
_PARAMS = {"parameters": ("Parameter", LIST)}
CHILDREN: dict[str, dict[str, tuple[str, str]]] = {
    "Workflow": {"metadata": ("ObjectMeta", ONE), "spec": ("WorkflowSpec", ONE)},
    "WorkflowSpec": {
        "arguments": ("Arguments", ONE),
        "templates": ("Template", LIST),
        "templateDefaults": ("TemplateDefaults", ONE),
        "retryStrategy": ("RetryStrategy", ONE),
        "hooks": ("LifecycleHook", MAP),
        "ttlStrategy": ("TTLStrategy", ONE),
        "podGC": ("PodGC", ONE),
        "podMetadata": ("Metadata", ONE),
        "workflowMetadata": ("WorkflowMetadata", ONE),
        "workflowTemplateRef": ("WorkflowTemplateRef", ONE),
    },
    "Template": _TEMPLATE_CHILDREN,
    "TemplateDefaults": _TEMPLATE_CHILDREN,
    "WorkflowStep": _NODE_CHILDREN,
    "DAGTask": _NODE_CHILDREN,
    "DAGTemplate": {"tasks": ("DAGTask", LIST)},
    "Arguments": _PARAMS,
    "Inputs": _PARAMS,
    "Outputs": _PARAMS,
    "Parameter": {"valueFrom": ("ValueFrom", ONE)},
    "RetryStrategy": {"backoff": ("Backoff", ONE)},
    "LifecycleHook": {"arguments": ("Arguments", ONE), "templateRef": ("TemplateRef", ONE)},
}


class Obj(NamedTuple):
    """A typed mapping of the spec: ``kind`` is a key of :data:`KNOWN`."""

    path: JsonPath
    kind: str
    body: dict


def _children(obj: Obj) -> Iterator[Obj]:
    for key, (kind, shape) in CHILDREN.get(obj.kind, {}).items():
        value = obj.body.get(key)
        path = (*obj.path, key)
        if shape == ONE and isinstance(value, dict):
            yield Obj(path, kind, value)
        elif shape == MAP and isinstance(value, dict):
            yield from (Obj((*path, k), kind, v) for k, v in value.items() if isinstance(v, dict))
        elif shape == LIST and isinstance(value, list):
            yield from (Obj((*path, i), kind, v) for i, v in enumerate(value) if isinstance(v, dict))
        elif shape == GROUPS and isinstance(value, list):
            for gi, group in enumerate(value):
                for si, step in enumerate(group if isinstance(group, list) else []):
                    if isinstance(step, dict):
                        yield Obj((*path, gi, si), kind, step)


def objects(value: Any, kind: str = "Workflow", path: JsonPath = ()) -> Iterator[Obj]:
    """Every typed mapping in ``value`` (a ``kind`` object at ``path``, by default the whole Workflow
    document), parents before children."""
    if not isinstance(value, dict):
        return
    stack = [Obj(path, kind, value)]
    while stack:
        obj = stack.pop()
        yield obj
        stack.extend(reversed(list(_children(obj))))


def describe(obj: Obj) -> str:
    """``step 'step-a'``, ``template 'main'``, ``spec``, ``hook 'exit'``... for messages."""
    label = LABELS[obj.kind]
    if obj.kind == "LifecycleHook":
        return f"{label} '{obj.path[-1]}'"
    if obj.kind not in _NAMED:
        return label
    name = obj.body.get("name")
    return f"{label} '{name}'" if isinstance(name, str) and name else f"a {label}"


def all_templates(spec: Any) -> Iterator[Obj]:
    """``spec.templates[*]`` and every ``inline`` template of a step or task (not templateDefaults)."""
    return (obj for obj in objects(spec) if obj.kind == "Template")


def template_label(obj: Obj) -> str:
    """``templates.<name>`` as Argo prefixes its messages, or where an inline template sits."""
    name = obj.body.get("name")
    if obj.path[-1:] == ("inline",):
        return "inline template of " + json_path(obj.path[:-1])
    return f"templates.{name}" if isinstance(name, str) and name else json_path(obj.path)
