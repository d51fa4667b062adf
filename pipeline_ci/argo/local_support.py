"""The one list of what the local executor (``pipeline_ci.platforms.local.executor``) cannot run, shared by lint
rule A41 (``local-unsupported``) and ``run --backend local`` (which refuses such a spec with exit 2 before
anything starts, unless ``--allow-unsupported`` is given; then the node ends in Error when it is reached).
It lives here, with the other Argo semantics, so that lint does not import the executor.

:func:`constructs` yields one :class:`Unsupported` per construct, with its path in the spec (``file:line:col``
via the spec document), the feature and why. What *is* supported is described in ``docs/local-executor.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from ..lazyre import lazy_re
from ..records import NamedTuple
from .walk import LEAF_TYPES, TAG_RE, nodes, spec_body, strings, template_type, templates

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

PYTHON_OR_SHELL = lazy_re(r"(python[0-9.]*|sh|bash)")
REMOTE_ARTIFACTS = ("s3", "gcs", "http", "git", "artifactory", "hdfs", "oss", "azure", "huggingFace", "plugin",
                    "artifactGC")
CLUSTER_TEMPLATES = {
    "resource": "it creates Kubernetes resources",
    "data": "it reads from an artifact repository",
    "http": "it is run by Argo's agent pod",
    "plugin": "it needs an executor plugin",
    "containerSet": "it runs several containers in one pod",
}
def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def semaphore_limit(limits: Mapping[str, int], configmap: str, key: str) -> int | None:
    """The limit given for a ConfigMap semaphore: ``CONFIGMAP/KEY`` first, then ``KEY``."""
    return limits.get(f"{configmap}/{key}", limits.get(key))


class Unsupported(NamedTuple):
    """One construct the local executor cannot run: where (a path in the spec), what and why."""

    path: tuple
    feature: str
    why: str

    def message(self) -> str:
        return f"{self.feature} cannot run locally: {self.why} (it runs on the platform)"


def constructs(spec: Any, semaphores: Mapping[str, int] | None = None) -> Iterator[Unsupported]:
    """Every construct of the Argo ``spec`` the local executor cannot run. ``semaphores``: the semaphore
    limits given to the run (None: not known, as in lint; a ConfigMap semaphore is then not reported)."""
    body = spec_body(spec)
    yield from _workflow(body, semaphores)
    for tpath, tmpl in templates(spec):
        yield from _template(tpath, tmpl, semaphores)
    for node in nodes(spec):
        yield from _call(node.path, node.body)
        if isinstance(node.body.get("inline"), dict):
            yield from _template((*node.path, "inline"), node.body["inline"], semaphores)
    yield from _expression_gaps(body)


def _expression_gaps(body: dict) -> Iterator[Unsupported]:
    """Functions of ``{{=…}}`` tags and ``expression:`` fields that Argo has and the local evaluator lacks
    (:func:`pipeline_ci.argo.expr.local_gaps`: ``now()``, ``sprig.semver``, …)."""
    for path, text in strings(body, ("spec",)):
        sources = [tag.strip()[1:] for tag in TAG_RE.findall(text) if tag.strip().startswith("=")]
        if path and path[-1] == "expression":
            sources.append(text)
        for source in sources:
            from . import expr  # only for a spec with expressions: the evaluator is a tenth of a cold lint

            for gap in expr.local_gaps(source):
                yield Unsupported(path, f"expression {source.strip()!r}", f"{gap.message}: not in the local evaluator")


def _workflow(body: dict, semaphores: Mapping[str, int] | None) -> Iterator[Unsupported]:
    base = ("spec",)
    for key, why in (("workflowTemplateRef", "the WorkflowTemplate lives on the cluster"),
                     ("retryStrategy", "a workflow-wide retryStrategy is not applied locally; set it on templates")):
        if body.get(key) is not None:
            yield Unsupported((*base, key), f"spec.{key}", why)
    if body.get("suspend") is True:
        yield Unsupported((*base, "suspend"), "spec.suspend", "a suspended workflow cannot be resumed locally")
    if body.get("shutdown") not in (None, ""):  # what `argo stop` (Stop) and `argo terminate` (Terminate) set
        yield Unsupported((*base, "shutdown"), f"spec.shutdown: {body['shutdown']}",
                          "Argo starts no node of a workflow being shut down (Stop: only its exit handler); "
                          "remove it to run the workflow")
    args = mapping(body.get("arguments"))
    for i, art in enumerate(_list(args.get("artifacts"))):
        if isinstance(art, dict) and not isinstance(art.get("raw"), dict):
            yield Unsupported((*base, "arguments", "artifacts", i), "workflow argument artifact",
                              "only raw artifacts are available locally")
    sync = body.get("synchronization")
    if isinstance(sync, dict):
        yield from _sync((*base, "synchronization"), sync, None)
    defaults = mapping(body.get("templateDefaults"))
    for kind in ("container", "script"):
        yield from _surroundings((*base, "templateDefaults", kind), mapping(defaults.get(kind)), "spec.templateDefaults")


def _sync(path: tuple, sync: dict, semaphores: Mapping[str, int] | None) -> Iterator[Unsupported]:
    items = [("semaphore", sync.get("semaphore"))] + [("semaphores", s) for s in sync.get("semaphores") or []]
    items += [("mutex", sync.get("mutex"))] + [("mutexes", m) for m in sync.get("mutexes") or []]
    for key, item in items:
        if not isinstance(item, dict):
            continue
        if item.get("database") is not None:
            yield Unsupported((*path, key), f"synchronization.{key}.database", "database locks live on the cluster")
        ref = item.get("configMapKeyRef")
        if isinstance(ref, dict) and semaphores is not None:
            cm, k = str(ref.get("name") or ""), str(ref.get("key") or "")
            if semaphore_limit(semaphores, cm, k) is None:
                yield Unsupported((*path, key, "configMapKeyRef"), f"semaphore {cm}/{k}",
                                  f"its limit is in a ConfigMap; give it with --semaphore {cm}/{k}=N")


def _template(tpath: tuple, tmpl: dict, semaphores: Mapping[str, int] | None) -> Iterator[Unsupported]:
    name = tmpl.get("name")
    label = f"template '{name}'"
    kind = template_type(tmpl)
    if kind in CLUSTER_TEMPLATES:
        yield Unsupported((*tpath, kind), f"{label}: {kind} template", CLUSTER_TEMPLATES[kind])
    if kind == "suspend":
        suspend = tmpl.get("suspend")
        if not isinstance(suspend, dict) or suspend.get("duration") in (None, ""):
            yield Unsupported((*tpath, "suspend"), f"{label}: suspend without a duration",
                              "nobody can resume it locally")
    if kind in ("container", "script"):
        yield from _process(tpath, tmpl, kind, label)
        for i, car in enumerate(_list(tmpl.get("sidecars"))):
            if isinstance(car, dict):
                yield from _process((*tpath, "sidecars", i), {"container": car}, "container",
                                    f"{label} sidecar '{car.get('name')}'")
    for key in ("initContainers",):
        if tmpl.get(key) not in (None, False, []):
            yield Unsupported((*tpath, key), f"{label}: {key}", "only the main process of a step runs locally")
    if isinstance(tmpl.get("synchronization"), dict):
        yield from _sync((*tpath, "synchronization"), tmpl["synchronization"], semaphores)
    inputs = mapping(tmpl.get("inputs"))
    for i, param in enumerate(_list(inputs.get("parameters"))):
        source = param.get("valueFrom") if isinstance(param, dict) else None
        if isinstance(source, dict) and "default" not in param and "value" not in param:
            yield Unsupported((*tpath, "inputs", "parameters", i, "valueFrom"),
                              f"{label}: inputs.parameters.{param.get('name')}.valueFrom",
                              "ConfigMaps and supplied values are not available locally")
    yield from _artifacts((*tpath, "inputs"), inputs, label)
    outputs = mapping(tmpl.get("outputs"))
    for i, param in enumerate(_list(outputs.get("parameters"))):
        source = param.get("valueFrom") if isinstance(param, dict) else None
        if not isinstance(source, dict):
            continue
        for key in source:
            ok = {"default", "expression"} | ({"path"} if kind in LEAF_TYPES else {"parameter"})
            if key not in ok:
                yield Unsupported((*tpath, "outputs", "parameters", i, "valueFrom", key),
                                  f"{label}: outputs.parameters.{param.get('name')}.valueFrom.{key}",
                                  f"{key} is not read locally for a {kind or 'template'} template")
    yield from _artifacts((*tpath, "outputs"), outputs, label)


def _process(tpath: tuple, tmpl: dict, kind: str, label: str) -> Iterator[Unsupported]:
    body = mapping(tmpl.get(kind))
    command = _list(body.get("command"))
    args = _list(body.get("args"))
    argv = command or ([] if kind == "script" else args)
    if kind == "container" and not argv:
        yield Unsupported((*tpath, kind), f"{label}: container without command",
                          "the image's entrypoint needs Docker; give command: [sh, -c] or [python]")
    elif argv and isinstance(argv[0], str) and "{{" not in argv[0]:
        program = os.path.basename(argv[0])
        if not PYTHON_OR_SHELL.fullmatch(program):
            where = (*tpath, kind, "command" if command else "args", 0)
            yield Unsupported(where, f"{label}: command {argv[0]!r}",
                              "locally only python and sh/bash commands run (no Docker)")
    for i, env in enumerate(_list(body.get("env"))):
        if isinstance(env, dict) and env.get("valueFrom") is not None:
            yield Unsupported((*tpath, kind, "env", i, "valueFrom"), f"{label}: env {env.get('name')} valueFrom",
                              "Kubernetes secrets and ConfigMaps are not available locally; use step secrets")
    yield from _surroundings((*tpath, kind), body, label)
    if body.get("envFrom"):
        yield Unsupported((*tpath, kind, "envFrom"), f"{label}: envFrom", "Kubernetes secrets and ConfigMaps are "
                          "not available locally")


def _surroundings(path: tuple, body: dict, label: str) -> Iterator[Unsupported]:
    """A container's ``workingDir`` and ``stdin``: the process would run elsewhere, with other input."""
    if body.get("workingDir") not in (None, ""):
        yield Unsupported((*path, "workingDir"), f"{label}: workingDir",
                          "a folder inside the image; locally the process runs in its node's own temporary folder")
    if body.get("stdin") is True:
        yield Unsupported((*path, "stdin"), f"{label}: stdin",
                          "locally a step's standard input is empty (end of file at once)")


def _artifacts(path: tuple, holder: Any, label: str) -> Iterator[Unsupported]:
    items = holder.get("artifacts") if isinstance(holder, dict) else None
    for i, art in enumerate(items if isinstance(items, list) else []):
        if not isinstance(art, dict):
            continue
        for key in REMOTE_ARTIFACTS:
            if art.get(key) is not None:
                yield Unsupported((*path, "artifacts", i, key), f"{label}: artifact '{art.get('name')}' from {key}",
                                  "artifact repositories are not reachable locally (artifacts pass through the "
                                  "run folder)")
        if art.get("fromExpression") is not None:
            yield Unsupported((*path, "artifacts", i, "fromExpression"),
                              f"{label}: artifact '{art.get('name')}' fromExpression",
                              "artifacts are only passed with from: locally")


def _call(path: tuple, call: dict) -> Iterator[Unsupported]:
    name = call.get("name")
    label = f"step/task '{name}'"
    args = mapping(call.get("arguments"))
    for i, param in enumerate(_list(args.get("parameters"))):
        source = param.get("valueFrom") if isinstance(param, dict) else None
        if isinstance(source, dict) and "default" not in source and "value" not in param:
            yield Unsupported((*path, "arguments", "parameters", i, "valueFrom"),
                              f"{label}: argument {param.get('name')} valueFrom",
                              "ConfigMaps, events and supplied values are not available locally")
    yield from _artifacts(path + ("arguments",), args, label)
