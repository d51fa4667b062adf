"""The local scheduler: runs an Argo Workflow's templates the way Argo's controller does
(``workflow/controller/{operator,steps,dag}.go`` in argoproj/argo-workflows; the pages named below are under
https://argo-workflows.readthedocs.io/en/latest/).

* Parameters (``walk-through/parameters/``, ``variables/``): workflow parameters are the entrypoint's
  arguments; a template's inputs come from the call's arguments, else the input's ``value``, else its
  ``default`` (those two with ``workflow.*`` tags resolved, as Argo does). A steps/DAG template is
  substituted once with globals and inputs (unknown tags kept); each step/task is substituted right
  before it starts against the outputs published so far, where ``steps.*``, ``tasks.*``, ``inputs.*`` and ``item`` tags must resolve.
* Steps (``walk-through/steps/``, ``walk-through/conditionals/``): groups in order, the members of a group
  in parallel; ``when``; ``continueOn``; a failed group stops the template. DAGs (``walk-through/dag/``)
  live in :mod:`.dagrun`, steps in :mod:`.steps`, peers over the engine's
  :class:`.host.Scheduling`. Loops (``walk-through/loops/``): ``name(i:value)`` children in parallel,
  aggregated outputs. Leaves run through :mod:`.leaf` with the retries (``retries/``) and time limits
  (``walk-through/timeouts/``) of :mod:`.retries`. ``spec.onExit`` (``walk-through/exit-handlers/``) and
  the final phase are in :meth:`Engine.run`.
* Concurrency: every leaf takes the run-wide ``--parallelism`` slot and the ``spec.parallelism`` slot (Argo:
  pods of the workflow); a steps/DAG template's ``parallelism`` limits its direct children (pods and nested
  steps/DAG nodes, loop children included; not what runs inside nested templates), as Argo's
  ``checkParallelism`` counts the active nodes of a boundary. Without ``--parallelism`` nothing but the spec
  limits the run, under a safety cap of :data:`SAFETY_CAP` concurrent leaves (said once when reached).
* Stops: ``main_stop`` (run deadline, node budget, cancellation, ``--timeout``) stops starting nodes and
  kills running ones; ``exit_stop`` does the same for the exit handler and fires only for cancellation,
  ``--timeout`` and the exit handler's own node budget.
* Budget: besides the nesting limit (:data:`MAX_DEPTH`), a run creates at most ``local.max-nodes`` nodes
  (the exit handler as many again): a template call or loop that would exceed it fails the run with a
  message naming the template (recursion with two branches per level grows exponentially under any
  depth limit).
* Retries of steps/DAG templates (``retries/``): a ``Retry`` node whose children ``name(0)``, ``name(1)``...
  are the attempts, as in Argo. Hooks (``lifecycle-hook/``): ``spec.hooks`` and step/task ``hooks`` run
  after the node they watch (a step's hook sees the step's own outputs), ``exit`` always, others when
  their ``expression`` holds (:mod:`.hooks`). ``synchronization`` (:mod:`.sync`), ``memoize``
  (:mod:`.memo`), artifacts (:mod:`.artifacts`), daemons (:mod:`.daemons`) have their own modules.

What cannot run locally is refused before the run starts (:mod:`pipeline_ci.argo.local_support`, shared
with lint rule A41); with ``--allow-unsupported`` such a node ends in Error. Ignored: pod settings (image, resources,
volumes...).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from ....argo.depends import ExprError
from ....argo.local_support import mapping
from ....argo.walk import LOOP_KEYS, argo_string, spec_body, template_map, template_type
from ....argo.when import clip, evaluate_when
from . import artifacts as arts
from . import dagrun, hooks, steps
from .daemons import Daemons
from .isolation import Isolation
from .leaf import LeafError, LeafRunner
from .memo import MemoCache, memo_of
from .model import (
    DAG,
    ERROR,
    FAILED,
    FAILURES,
    LOOP,
    OMITTED,
    OTHER,
    POD,
    RETRY,
    SKIPPED,
    SKIPPED_NODE,
    STEPS,
    SUCCEEDED,
    SUSPEND,
    Callee,
    Frame,
    NodeRecord,
    NodeResult,
    StepTarget,
    Stop,
    acquire_all,
    release_all,
    rfc3339,
    run_parallel,
)
from .pods import PodRunner
from .retries import RetryPolicy, deadline, expression_allows
from .scope import (
    SubstitutionError,
    TooManyItems,
    expand_loop,
    item_label,
    item_scope,
    resolve_output,
    substitute,
    to_json,
)
from .secrets import Secrets
from .sync import Locks

INLINE = frozenset({"inline"})
EXPRESSION = frozenset({"expression"})  # evaluated later with its own variables (lastRetry.*)
MAX_DEPTH = 64
SAFETY_CAP = 64  # concurrent leaves when neither --parallelism nor the spec limits them
HAS_OUTPUT = ("script", "container")


def merge_defaults(defaults: Mapping[str, Any], tmpl: dict) -> dict:
    """``spec.templateDefaults`` under a template (Argo's ``MergeTo``): the template's own values win, mappings
    merge key by key, anything else (lists included) is taken whole from the template when it has one."""
    if not defaults:
        return tmpl
    out = dict(defaults)
    for key, value in tmpl.items():
        base = out.get(key)
        out[key] = merge_defaults(base, value) if isinstance(base, dict) and isinstance(value, dict) else value
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80] or "node"


class Engine:
    """One run of a workflow: the node records, the globals, the stops and the node budget; it invokes
    templates, hands steps/DAG templates to their schedulers (:mod:`.steps`, :mod:`.dagrun`, which see it
    as a :class:`.host.Scheduling`) and leaves to the :class:`.pods.PodRunner` it holds (which sees it as
    a :class:`.host.NodeBook`)."""

    def __init__(self, spec: dict, *, name: str, parameters: dict[str, str], targets: Mapping[str, StepTarget],
                 runner: LeafRunner, isolation: Isolation, secrets: Secrets, say: Callable[[str], None],
                 log_dir: Path, parallelism: int | None, state_dir: Path | None = None,
                 semaphores: Mapping[str, int] | None = None):
        self.spec = spec
        self.body = spec_body(spec)
        defaults = mapping(self.body.get("templateDefaults"))
        self.templates = {name: merge_defaults(defaults, tmpl) for name, tmpl in template_map(spec).items()}
        self.name = name
        self.parameters = parameters
        self.targets = targets
        self.runner = runner
        self.secrets = secrets
        self.say = say
        self.pods = PodRunner(self, runner, isolation, secrets, say)
        self.pods.artifact_store = log_dir.parent / "artifacts"
        self.log_dir = log_dir
        self.locks = Locks(semaphores or {})
        self.memo = MemoCache((state_dir or log_dir.parent) / "memo")
        self.nodes: list[NodeRecord] = []
        self.outputs: dict[str, str] = {}
        self.main_stop, self.exit_stop = Stop(), Stop()
        self.terminated: str | None = None  # Cancelled / TimedOut / Error: killed, no exit handler
        self.terminated_message = ""
        self.started = time.time()
        self._lock = threading.Lock()
        self._budget = {"main": 0, "exit": 0}  # template calls and loops so far (nodes), by stop signal
        limits: list[threading.Semaphore] = [
            threading.Semaphore(max(1, parallelism)) if parallelism else _Capped(SAFETY_CAP, say)]
        if isinstance(self.body.get("parallelism"), int) and self.body["parallelism"] > 0:
            limits.append(threading.Semaphore(self.body["parallelism"]))
        self.limits = tuple(limits)
        self._globals = self._initial_globals()

    # ----------------------------------------------------------------------------------- workflow

    def _initial_globals(self) -> dict[str, str]:
        meta = mapping(self.spec.get("metadata"))
        out = {
            "workflow.name": self.name, "workflow.namespace": "local", "workflow.uid": str(uuid.uuid4()),
            "workflow.serviceAccountName": str(self.body.get("serviceAccountName") or "default"),
            "workflow.mainEntrypoint": str(self.body.get("entrypoint")), "workflow.status": "Running",
            "workflow.creationTimestamp": rfc3339(self.started),
        }
        for name, value in self.parameters.items():
            out[f"workflow.parameters.{name}"] = value
        if self.parameters:
            out["workflow.parameters"] = to_json([{"name": n, "value": v} for n, v in self.parameters.items()])
        for kind in ("labels", "annotations"):
            values = mapping(meta.get(kind))
            out.update({f"workflow.{kind}.{k}": argo_string(v) for k, v in values.items()})
        if self.body.get("priority") is not None:
            out["workflow.priority"] = argo_string(self.body["priority"])
        return out

    def globals(self) -> dict[str, str]:
        with self._lock:
            return dict(self._globals)

    def set_global(self, key: str, value: str) -> None:
        with self._lock:
            self._globals[key] = value

    def export(self, param: dict, outputs: dict[str, str]) -> None:
        """Publish output ``param`` as ``workflow.outputs.parameters.<globalName>`` when it has a global name."""
        name = param.get("globalName")
        if isinstance(name, str) and name and param.get("name") in outputs:
            self.set_global(f"workflow.outputs.parameters.{name}", outputs[param["name"]])
            with self._lock:
                self.outputs[name] = self.secrets.mask(outputs[param["name"]])  # record copy only

    def export_artifact(self, name: str, location: str) -> None:
        """Publish an output artifact with a ``globalName`` as ``workflow.outputs.artifacts.<name>``."""
        self.set_global(f"workflow.outputs.artifacts.{name}", location)

    def terminate(self, kind: str, message: str) -> None:
        """Kill everything, exit handler included (cancellation, ``--timeout``)."""
        if self.terminated is None:
            self.terminated, self.terminated_message = kind, message
        self.main_stop.fire(kind, message)
        self.exit_stop.fire(kind, message)

    def run(self) -> tuple[str, str]:
        """Run the entrypoint, then ``spec.onExit``; return the workflow phase and message."""
        frame = Frame(None, 0, self.main_stop, self.limits)
        root = self.invoke_named(self.body.get("entrypoint"), dict(self.parameters), self.name, self.name, frame)
        phase = SUCCEEDED if root.phase in (SKIPPED, OMITTED) else root.phase
        message = root.message
        if self.main_stop.kind in ("deadline", "budget"):
            phase, message = FAILED, self.main_stop.message
        on_exit = self.body.get("onExit")
        workflow_hooks = mapping(self.body.get("hooks"))
        if (on_exit or workflow_hooks) and self.terminated is None:
            self.set_global("workflow.status", phase)
            self.set_global("workflow.failures", json.dumps(self.failures(), separators=(",", ":")))
            self.set_global("workflow.duration", f"{time.time() - self.started:.3f}")
            exit_frame = Frame(None, 0, self.exit_stop, self.limits)
            results = hooks.run_workflow_hooks(self, workflow_hooks, exit_frame)
            if on_exit:
                results.append(self.invoke_named(on_exit, dict(self.parameters), "onExit", f"{self.name}.onExit",
                                                 exit_frame))
            bad = next((r for r in results if r.phase in FAILURES), None)
            if phase == SUCCEEDED and bad is not None:
                phase, message = bad.phase, f"exit handler {bad.phase}: {bad.message}"
        return phase, message

    def failures(self) -> list[dict[str, str]]:
        """``{{workflow.failures}}``: every Failed/Error node so far, in Argo's field order (operator.go's
        ``failedNodeStatus``); ``podName`` (the node's id) only for the nodes that ran a process."""
        out = []
        for n in list(self.nodes):
            if n.phase in FAILURES:
                entry = {"displayName": n.name, "message": n.message, "templateName": n.template, "phase": n.phase}
                if n.type == POD:
                    entry["podName"] = n.path
                entry["finishedAt"] = rfc3339(n.finished)
                out.append(entry)
        return out

    # --------------------------------------------------------------------------------- node records

    def node(self, display: str, path: str, kind: str, template: str, frame: Frame) -> NodeRecord:
        with self._lock:
            rec = NodeRecord(len(self.nodes), display, path, kind, template, frame.parent, frame.depth)
            if kind == POD:
                rec.log = str(self.log_dir / f"{rec.id:03d}-{_slug(display)}.log")
            else:
                rec.started = time.time()
            self.nodes.append(rec)
        return rec

    def finish(self, rec: NodeRecord, phase: str, message: str = "", *, quiet: bool = False) -> None:
        if rec.type != POD or rec.finished is None:
            rec.finished = time.time()
        rec.started = rec.started if rec.started is not None else rec.finished
        rec.phase, rec.message = phase, message
        if rec.log is not None and not Path(rec.log).exists():
            rec.log = None  # the node never started a process
        if quiet:
            return
        if rec.type == POD:
            took = f" in {rec.duration:.2f}s" if rec.duration is not None else ""
            self.say(f"[{rec.name}] {phase}{took}" + (f": {message}" if message else ""))
        elif phase != SUCCEEDED:
            self.say(f"[{rec.name}] {message}" if message.lower().startswith(phase.lower()) else
                     f"[{rec.name}] {phase}: {message}")

    def over_budget(self, frame: Frame, label: str, display: str, path: str, extra: int = 1,
                    reserve: int = 1) -> NodeResult | None:
        """None if ``extra`` more nodes fit in the node budget (``reserve`` of them are taken now). Else the run
        (or exit handler) is stopped: the first call to find out gets an Error node saying why, later ones a
        "not started" result. Skipped and Error nodes are not counted (the spec's size bounds them)."""
        limit = self.runner.limits.max_nodes
        key = "exit" if frame.stop is self.exit_stop else "main"
        with self._lock:  # check and reserve at once: thousands of threads may get here together
            if self._budget[key] + extra <= limit:
                self._budget[key] += reserve
                return None
        message = (f"the run would exceed its budget of {limit} nodes ({self.runner.limits.setting('max-nodes')}) "
                   f"at template '{label}': unbounded recursion or fan-out?")
        if frame.stop.fire("budget", message):
            return self.error_node(display, path, frame, label, message)
        return NodeResult(FAILED, f"not started: {frame.stop.message}")

    def error_node(self, display: str, path: str, frame: Frame, label: str, message: str) -> NodeResult:
        rec = self.node(display, path, OTHER, label, frame)
        self.finish(rec, ERROR, message)
        return NodeResult(ERROR, message, record=rec)

    def skipped(self, callee: Callee | None, display: str, path: str, frame: Frame, phase: str, message: str
                ) -> NodeResult:
        """A Skipped/Omitted node; its outputs resolve to "" (or the output's ``valueFrom.default``)."""
        rec = self.node(display, path, SKIPPED_NODE, callee.label if callee else "", frame)
        self.finish(rec, phase, message)
        outputs, result = {}, None
        if callee is not None and callee.target is not None:
            outputs, result = {"result": ""}, ""
        elif callee is not None and callee.template is not None:
            for param in (callee.template.get("outputs") or {}).get("parameters") or []:
                if isinstance(param, dict) and isinstance(param.get("name"), str):
                    source = mapping(param.get("valueFrom"))
                    outputs[param["name"]] = argo_string(source.get("default")) if "default" in source else ""
            result = "" if template_type(callee.template) in HAS_OUTPUT else None
        return NodeResult(phase, message, outputs=outputs, result=result, record=rec)

    # ---------------------------------------------------------------------------- steps and tasks

    def callee(self, body: Mapping[str, Any]) -> Callee:
        if isinstance(body.get("templateRef"), dict):
            ref = str(body["templateRef"].get("name"))
            target = self.targets.get(ref)
            if target is None:
                raise LeafError(f"templateRef {ref} is not mapped to a local step folder")
            return Callee(target.step_id, target=target)
        if "template" in body:
            tmpl = self.templates.get(body["template"]) if isinstance(body["template"], str) else None
            if tmpl is None:
                raise LeafError(f"template name '{body['template']}' undefined")
            return Callee(body["template"], template=tmpl)
        if isinstance(body.get("inline"), dict):
            return Callee(str(body["inline"].get("name") or "inline"), template=body["inline"])
        raise LeafError("neither template, templateRef nor inline is set")

    def run_call(self, call: dict, scope: dict[str, str], path: str, frame: Frame) -> NodeResult:
        """Run one step or DAG task (expanding its loop, if any)."""
        name = str(call.get("name"))
        try:
            items = expand_loop(substitute({k: call[k] for k in LOOP_KEYS if k in call}, scope, strict=True),
                                limit=self.runner.limits.max_nodes)
        except TooManyItems as exc:
            over = self.over_budget(frame, self._label(call), name, path, extra=exc.count + 1)
            return over or self.error_node(name, path, frame, self._label(call), str(exc))
        except SubstitutionError as exc:
            return self.error_node(name, path, frame, "", str(exc))
        if items is None:
            return self.run_single(call, scope, name, path, frame)
        if frame.stop.is_set():
            return NodeResult(FAILED, f"not started: {frame.stop.message}")
        try:
            callee = self.callee(call)
        except LeafError:
            callee = None
        over = self.over_budget(frame, self._label(call), name, path, extra=len(items) + 1)  # children reserve their own
        if over:
            return over
        if not items:
            return self.skipped(callee, name, path, frame, SKIPPED, "Skipped, empty params")
        rec = self.node(name, path, LOOP, callee.label if callee else "", frame)
        inner = frame.below(rec)
        calls = [
            partial(self.run_single, call, {**scope, **item_scope(item)}, f"{name}({i}:{item_label(item)})",
                    f"{path}({i}:{item_label(item)})", inner)
            for i, item in enumerate(items)
        ]
        children = run_parallel(calls)
        bad = [c for c in children if c.phase in FAILURES]
        if bad:
            phase = FAILED if any(c.phase == FAILED for c in bad) else ERROR
            message = f"{len(bad)} of {len(children)} children failed"
        else:
            phase = SKIPPED if all(c.phase == SKIPPED for c in children) else SUCCEEDED
            message = ""
        self.finish(rec, phase, message, quiet=not bad)
        return NodeResult(phase, message, children=children, record=rec)

    @staticmethod
    def _label(call: Mapping[str, Any]) -> str:
        """The template a step/task calls, for messages (before substitution)."""
        if isinstance(call.get("templateRef"), dict):
            return str(call["templateRef"].get("name"))
        if isinstance(call.get("inline"), dict):
            return str(call["inline"].get("name") or "inline")
        return str(call.get("template"))

    def run_single(self, call: dict, scope: dict[str, str], display: str, path: str, frame: Frame) -> NodeResult:
        if frame.stop.is_set():
            return NodeResult(FAILED, f"not started: {frame.stop.message}")
        callee: Callee | None = None
        try:
            body = substitute({k: v for k, v in call.items() if k not in LOOP_KEYS}, scope, strict=True,
                              skip=INLINE | hooks.LATE)
            callee = self.callee(body)
            when = body.get("when")
            if when is not None and when != "":
                text = when if isinstance(when, str) else argo_string(when)
                if not evaluate_when(text):
                    return self.skipped(callee, display, path, frame, SKIPPED, f"when '{clip(text)}' evaluated false")
            args = self.arguments(body)
        except (SubstitutionError, LeafError) as exc:
            return self.error_node(display, path, frame, callee.label if callee else "", str(exc))
        except ExprError as exc:
            return self.error_node(display, path, frame, callee.label if callee else "", exc.message)
        return self.invoke(callee, args, display, path, frame, step_name=str(call.get("name")),
                           artifacts=arts.argument_sources(body))

    def run_hooks(self, call: dict, scope: dict[str, str], prefix: str, res: NodeResult, path: str, frame: Frame
                  ) -> list[NodeResult]:
        return hooks.run_step_hooks(self, call, scope, prefix, res, path, frame)

    @staticmethod
    def arguments(body: Mapping[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        params = (body.get("arguments") or {}).get("parameters") or []
        for param in params if isinstance(params, list) else []:
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                continue
            if "value" in param:
                out[param["name"]] = argo_string(param["value"])
            elif isinstance(param.get("valueFrom"), dict) and "default" in param["valueFrom"]:
                out[param["name"]] = argo_string(param["valueFrom"]["default"])
            else:
                raise LeafError(f"argument '{param['name']}': valueFrom without default is not supported locally")
        return out

    # ------------------------------------------------------------------------------------ templates

    def invoke_named(self, name: Any, args: dict[str, str], display: str, path: str, frame: Frame) -> NodeResult:
        tmpl = self.templates.get(name) if isinstance(name, str) else None
        if tmpl is None:
            return self.error_node(display, path, frame, str(name), f"template name '{name}' undefined")
        return self.invoke(Callee(name, template=tmpl), args, display, path, frame, step_name=None)

    def invoke(self, callee: Callee, args: dict[str, str], display: str, path: str, frame: Frame,
               step_name: str | None, artifacts: dict[str, str] | None = None) -> NodeResult:
        if frame.depth > MAX_DEPTH:
            return self.error_node(display, path, frame, callee.label, "templates nested too deeply (recursion?)")
        over = self.over_budget(frame, callee.label, display, path)
        if over:
            return over
        slot = (frame.boundary,) if frame.boundary is not None else ()
        if not acquire_all(slot, frame.stop):
            return NodeResult(FAILED, f"not started: {frame.stop.message}")
        try:
            return self._invoke_slotted(callee, args, display, path, frame, step_name, artifacts)
        finally:
            release_all(slot)

    def _invoke_slotted(self, callee: Callee, args: dict[str, str], display: str, path: str, frame: Frame,
                        step_name: str | None, artifacts: dict[str, str] | None) -> NodeResult:
        if callee.target is not None:
            return self.pods.run(callee, args, {}, display, path, frame, step_name)
        tmpl = callee.template or {}
        inputs: dict[str, str] = {}
        globals_now = self.globals()
        for param in (tmpl.get("inputs") or {}).get("parameters") or []:
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                continue
            pname = param["name"]
            value = args.get(pname)
            if value is None:  # the template's own value/default, with workflow.* tags resolved (like Argo)
                own = param.get("value", param.get("default"))
                value = None if own is None else substitute(argo_string(own), globals_now, strict=False)
            if value is None:
                message = f"inputs.parameters.{pname} was not supplied"
                return self.error_node(display, path, frame, callee.label, message)
            inputs[pname] = argo_string(value)
        scope = {**globals_now, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        scope["inputs.parameters"] = to_json([{"name": k, "value": v} for k, v in inputs.items()])
        given = dict(artifacts or {})
        for art in arts.declared(tmpl, "inputs"):
            if art["name"] in given and not given[art["name"]].startswith("raw:"):
                scope[f"inputs.artifacts.{art['name']}"] = given[art["name"]]
        sync = substitute(tmpl.get("synchronization"), scope, strict=False)
        held = self.locks.acquire(sync, frame.stop) if sync else ()
        if held is None:
            return NodeResult(FAILED, f"not started: {frame.stop.message}")
        try:
            return self._invoke_memoized(callee, tmpl, inputs, scope, display, path, frame, step_name, given)
        finally:
            release_all(held)

    def _invoke_memoized(self, callee: Callee, tmpl: dict, inputs: dict[str, str], scope: dict[str, str],
                         display: str, path: str, frame: Frame, step_name: str | None, given: dict[str, str]
                         ) -> NodeResult:
        try:
            memo = memo_of(substitute({"memoize": tmpl.get("memoize")}, scope, strict=False))
        except ValueError as exc:
            return self.error_node(display, path, frame, callee.label, str(exc))
        if memo is not None:
            entry = self.memo.get(memo)
            if entry is not None:
                rec = self.node(display, path, POD if template_type(tmpl) in HAS_OUTPUT else OTHER, callee.label,
                                frame)
                outputs = {str(k): str(v) for k, v in entry["outputs"].items()}
                rec.outputs = {k: self.secrets.mask(v) for k, v in outputs.items()}
                self.finish(rec, SUCCEEDED, f"memoized: cache {memo.cache!r} hit for key {memo.key!r}", quiet=True)
                self.say(f"[{display}] Succeeded: memoized (cache {memo.cache}, key {memo.key})")
                for param in (tmpl.get("outputs") or {}).get("parameters") or []:
                    if isinstance(param, dict):
                        self.export(param, outputs)
                result = entry.get("result")
                return NodeResult(SUCCEEDED, rec.message, outputs=outputs,
                                  result=result if isinstance(result, str) else None, record=rec)
        res = self._invoke_kind(callee, tmpl, inputs, scope, display, path, frame, step_name, given)
        if memo is not None and res.phase == SUCCEEDED:
            try:
                self.memo.put(memo, res.outputs, res.result)
            except OSError as exc:
                self.say(f"[{display}] warning: could not save the memoized outputs: {exc}")
        return res

    def _invoke_kind(self, callee: Callee, tmpl: dict, inputs: dict[str, str], scope: dict[str, str], display: str,
                     path: str, frame: Frame, step_name: str | None, given: dict[str, str]) -> NodeResult:
        kind = template_type(tmpl)
        if kind in HAS_OUTPUT and tmpl.get("daemon") in (True, "true") and frame.daemons is not None:
            daemons: Daemons = frame.daemons
            started = daemons.start(
                lambda stop: self.pods.run(callee, inputs, scope, display, path, replace(frame, stop=stop), step_name,
                                           artifacts=given),
                lambda: next((n for n in list(self.nodes) if n.path == path), None), frame.stop)
            return started or NodeResult(FAILED, f"not started: {frame.stop.message}")
        if kind in HAS_OUTPUT:
            return self.pods.run(callee, inputs, scope, display, path, frame, step_name, artifacts=given)
        if kind in ("steps", "dag"):
            if isinstance(tmpl.get("retryStrategy"), dict):
                return self.run_retried(kind, callee, scope, display, path, frame)
            return self.run_composite(kind, callee, scope, display, path, frame)
        if kind == "suspend":
            return self.run_suspend(callee, scope, display, path, frame)
        return self.error_node(display, path, frame, callee.label,
                               f"template '{callee.label}' ({kind or 'no type'}) cannot run locally")

    def run_retried(self, kind: str, callee: Callee, scope: dict[str, str], display: str, path: str, frame: Frame
                    ) -> NodeResult:
        """A steps/DAG template with a ``retryStrategy``: a Retry node with one child per attempt, as in Argo."""
        strategy = substitute((callee.template or {}).get("retryStrategy"), scope, strict=False, skip=EXPRESSION)
        try:
            policy = RetryPolicy.parse(strategy)
        except LeafError as exc:
            return self.error_node(display, path, frame, callee.label, str(exc))
        rec = self.node(display, path, RETRY, callee.label, frame)
        inner = frame.below(rec)
        delays, first, attempt = policy.delays(), time.monotonic(), 0
        while True:
            rec.attempts = attempt + 1
            res = self.run_composite(kind, callee, {**scope, "retries": str(attempt)}, f"{display}({attempt})",
                                     f"{path}({attempt})", inner)
            if res.phase == SUCCEEDED or frame.stop.is_set():
                break
            delay = policy.next_delay(delays, res.phase, attempt, time.monotonic() - first)
            try:
                if delay is not None and not expression_allows(
                        strategy, scope, phase=res.phase, exit_code=None, message=res.message,
                        duration=time.monotonic() - first):
                    delay = None
            except LeafError as exc:
                res, delay = NodeResult(ERROR, str(exc), record=res.record), None
            if delay is None:
                break
            self.say(f"[{display}] attempt {attempt + 1} {res.phase}: {res.message}; retrying in {delay:g}s")
            if frame.stop.wait(delay):
                break
            attempt += 1
        rec.outputs = dict(res.outputs)
        self.finish(rec, res.phase, res.message, quiet=True)
        return NodeResult(res.phase, res.message, outputs=res.outputs, record=rec, artifacts=res.artifacts)

    def run_composite(self, kind: str, callee: Callee, scope: dict[str, str], display: str, path: str,
                      frame: Frame) -> NodeResult:
        body = substitute(callee.template or {}, scope, strict=False, skip=INLINE)
        rec = self.node(display, path, STEPS if kind == "steps" else DAG, callee.label, frame)
        cap = body.get("parallelism")
        boundary = threading.Semaphore(cap) if isinstance(cap, int) and cap > 0 else None
        schedule = steps.run_steps if kind == "steps" else dagrun.run_dag
        daemons = Daemons()
        try:
            phase, message, local = schedule(self, body, scope, rec,
                                             replace(frame.below(rec), boundary=boundary, daemons=daemons))
        finally:
            daemons.end()
        outputs: dict[str, str] = {}
        for param in (body.get("outputs") or {}).get("parameters") or []:
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                continue
            source = mapping(param.get("valueFrom"))
            try:
                outputs[param["name"]] = resolve_output(param, {**local, **self.globals()})
            except SubstitutionError as exc:
                if "default" in source:
                    outputs[param["name"]] = argo_string(source["default"])
                elif phase == SUCCEEDED:
                    phase, message = ERROR, f"output parameter '{param['name']}': {exc}"
            self.export(param, outputs)
        produced: dict[str, str] = {}
        try:
            produced = arts.composite_outputs(body, lambda raw: substitute(raw, {**local, **self.globals()},
                                                                            strict=True))
        except SubstitutionError as exc:
            if phase == SUCCEEDED:
                phase, message = ERROR, f"output artifact: {exc}"
        for art in arts.declared(body, "outputs"):
            name = art.get("globalName")
            if isinstance(name, str) and name and art["name"] in produced:
                self.export_artifact(name, produced[art["name"]])
        rec.outputs = {k: self.secrets.mask(v) for k, v in outputs.items()}
        self.finish(rec, phase, message, quiet=phase == SUCCEEDED or frame.parent is None)
        return NodeResult(phase, message, outputs=outputs, record=rec, artifacts=produced)

    def run_suspend(self, callee: Callee, scope: dict[str, str], display: str, path: str, frame: Frame
                    ) -> NodeResult:
        rec = self.node(display, path, SUSPEND, callee.label, frame)
        spec = substitute((callee.template or {}).get("suspend") or {}, scope, strict=False)
        try:
            seconds = deadline({"timeout": spec.get("duration")}) if isinstance(spec, dict) else None
        except LeafError as exc:
            seconds, message = None, str(exc)
        else:
            message = "suspend without a duration cannot be resumed locally"
        if seconds is None:
            self.finish(rec, ERROR, message)
            return NodeResult(ERROR, message, record=rec)
        stopped = frame.stop.wait(seconds)
        phase, message = (FAILED, frame.stop.message) if stopped else (SUCCEEDED, "")
        self.finish(rec, phase, message, quiet=not stopped)
        return NodeResult(phase, message, record=rec)


class _Capped(threading.Semaphore):
    """The run-wide slots when no ``--parallelism`` is given: a safety cap that says so once when reached."""

    def __init__(self, value: int, say: Callable[[str], None]):
        super().__init__(value)
        self.cap, self.say, self.noticed = value, say, False

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if super().acquire(blocking=False):
            return True
        if not self.noticed:
            self.noticed = True
            self.say(f"pipeline-ci: {self.cap} steps are running at once, the local safety cap; the others wait "
                     "(set --parallelism to choose the limit)")
        return super().acquire(blocking, timeout)
