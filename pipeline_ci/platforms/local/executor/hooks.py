"""Lifecycle hooks for local runs (Argo docs ``lifecycle-hook/`` and ``walk-through/exit-handlers/``).

* Step/task ``hooks`` (and the older step ``onExit``) run right after the node they watch, before the
  next group / the tasks that depend on it, and are substituted only then: a hook's arguments can name
  the step's own outputs (``{{steps.step-1.outputs.parameters.result}}``), as in Argo. The hook nodes are
  ``<step>.onExit`` for ``exit`` and ``<step>.hooks.<name>`` for the others.
* ``spec.hooks``: ``exit`` runs like ``spec.onExit``; the others run after the entrypoint.
* A hook other than ``exit`` runs when its ``expression`` holds. Argo evaluates it while the node changes
  state; locally it is evaluated once the node has ended, first with the node's final status and, if that
  is false, with status ``Running`` (every node that ran was Running once), so ``running`` and ``success``
  hooks both fire, after the node rather than during it. Expressions need the expr-lang evaluator of
  :mod:`pipeline_ci.argo.expr`; without it a spec with hook expressions is refused before the run
  (:mod:`pipeline_ci.argo.local_support`).
* A failed hook does not change the phase of the node it watches; a failed ``spec.hooks`` hook fails a
  workflow that otherwise succeeded, like an exit handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....argo.local_support import mapping
from .leaf import LeafError
from .model import SUCCEEDED, Frame, NodeResult
from .scope import SubstitutionError, substitute

if TYPE_CHECKING:
    from .engine import Engine

LATE = frozenset({"hooks", "onExit"})  # step fields substituted only after the step


def _holds(text: str, scope: dict[str, str]) -> bool:
    from ....argo.expr import evaluate_bool

    value = evaluate_bool(text, scope)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def step_hooks(call: dict) -> list[tuple[str, dict]]:
    """``(event, hook)`` pairs of a step/task: its ``hooks`` and the older ``onExit`` (as ``exit``)."""
    out = [(str(k), v) for k, v in mapping(call.get("hooks")).items() if isinstance(v, dict)]
    if isinstance(call.get("onExit"), str) and "exit" not in dict(out):
        out.append(("exit", {"template": call["onExit"]}))
    return out


def _suffix(event: str) -> str:
    return "onExit" if event == "exit" else f"hooks.{event}"


def _run_one(engine: Engine, event: str, hook: dict, scope: dict[str, str], name: str, where: str,
             frame: Frame, status_keys: list[str], final: str) -> NodeResult | None:
    expression = hook.get("expression")
    try:
        if event != "exit":  # ``exit`` always runs; the others when their expression holds
            if not isinstance(expression, str) or not expression.strip():
                return None
            fired = _holds(expression, scope)
            if not fired and final != "Running":
                fired = _holds(expression, {**scope, **{k: "Running" for k in status_keys}})
            if not fired:
                return None
        body = substitute({k: v for k, v in hook.items() if k != "expression"}, scope, strict=True,
                          skip=frozenset({"inline"}))
        callee = engine.callee(body)
        args = engine.arguments(body)
    except (SubstitutionError, LeafError) as exc:
        return engine.error_node(name, where, frame, "", f"hook {event}: {exc}")
    except Exception as exc:  # an expression error from the evaluator
        return engine.error_node(name, where, frame, "", f"hook {event}: {exc}")
    from .artifacts import argument_sources

    return engine.invoke(callee, args, name, where, frame, step_name=None, artifacts=argument_sources(body))


def run_step_hooks(engine: Engine, call: dict, scope: dict[str, str], prefix: str, res: NodeResult, path: str,
                   frame: Frame) -> list[NodeResult]:
    """Run the hooks of a finished step/task; ``scope`` already holds its published outputs."""
    out = []
    name = str(call.get("name"))
    keys = [f"{prefix}.{name}.status"]
    for event, hook in step_hooks(call):
        done = _run_one(engine, event, hook, scope, f"{name}.{_suffix(event)}", f"{path}.{_suffix(event)}", frame,
                        keys, res.phase)
        if done is not None:
            out.append(done)
    return out


def run_workflow_hooks(engine: Engine, hooks: dict, frame: Frame) -> list[NodeResult]:
    """Run ``spec.hooks`` after the entrypoint (``workflow.status`` is already final in the globals)."""
    out = []
    scope = engine.globals()
    final = scope.get("workflow.status", SUCCEEDED)
    for event, hook in hooks.items():
        if not isinstance(hook, dict):
            continue
        event = str(event)
        name = "onExit" if event == "exit" else f"{engine.name}.{_suffix(event)}"
        done = _run_one(engine, event, hook, scope, name, f"{engine.name}.{_suffix(event)}", frame,
                        ["workflow.status"], final)
        if done is not None:
            out.append(done)
    return out

