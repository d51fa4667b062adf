"""Steps templates for the local executor (Argo docs ``walk-through/steps/``; ``workflow/controller/steps.go``
in argoproj/argo-workflows): the groups in order, the members of a group in parallel; each member's outputs
are published as ``steps.<name>.*`` for the groups after it; a failure not tolerated by ``continueOn`` ends
the template Failed (later groups are not started, as in Argo). Each member's hooks run once the group has
ended (:mod:`.hooks`). A peer of :mod:`.dagrun`: both depend only on a :class:`.host.Scheduling` host.
"""

from __future__ import annotations

from functools import partial

from .hooks import step_hooks
from .host import Scheduling
from .model import ERROR, FAILED, FAILURES, SUCCEEDED, Frame, NodeRecord, run_parallel
from .scope import continues_on, publish


def run_steps(host: Scheduling, body: dict, scope: dict[str, str], rec: NodeRecord, frame: Frame
              ) -> tuple[str, str, dict[str, str]]:
    """Run a (template-level substituted) steps template; returns phase, message and the final scope."""
    local = dict(scope)
    for gi, group in enumerate(body.get("steps") or []):
        if frame.stop.is_set():
            return FAILED, frame.stop.message, local
        if not isinstance(group, list):
            return ERROR, f"steps[{gi}] is not a list of steps", local
        snapshot = {**local, **host.globals()}
        steps = [s for s in group if isinstance(s, dict)]
        results = run_parallel([
            partial(host.run_call, s, snapshot, f"{rec.path}[{gi}].{s.get('name')}", frame) for s in steps
        ])
        for step, res in zip(steps, results, strict=True):
            publish(local, "steps", str(step.get("name")), res)
        for step, res in zip(steps, results, strict=True):
            if step_hooks(step):
                host.run_hooks(step, {**local, **host.globals()}, "steps", res, f"{rec.path}[{gi}].{step.get('name')}",
                               frame)
        for step, res in zip(steps, results, strict=True):
            if res.phase in FAILURES and not continues_on(step, res.phase):
                return FAILED, f"child '{step.get('name')}' {res.phase}: {res.message}", local
    return SUCCEEDED, "", local
