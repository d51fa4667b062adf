"""``retryStrategy`` and leaf time limits of a local template (Argo docs ``retries/`` and
``walk-through/timeouts/``; ``workflow/controller/operator.go`` in argoproj/argo-workflows).

* ``limit`` (int or integer string) = extra attempts; missing means unlimited, as in Argo (bounded
  only by ``backoff.maxDuration``, the run ``--timeout`` or cancellation).
* ``retryPolicy``: ``OnFailure`` (default) retries Failed, ``OnError`` retries Error, ``Always`` both;
  ``OnTransientError`` never retries locally (there are no Kubernetes transient errors here).
* ``backoff``: wait ``duration * factor**(n-1)`` before retry n, capped by ``cap``; no further retry
  once ``maxDuration`` (counted from the first attempt) would be exceeded. Durations are Go
  durations or integer seconds; ``factor`` defaults to 1 (no growth), as in Argo. The delays come
  from :class:`pipeline_ci.retry.Backoff` without jitter.
* ``retryStrategy.expression`` (expr-lang, :mod:`pipeline_ci.argo.expr`) is evaluated after each failed
  attempt with ``lastRetry.exitCode``, ``lastRetry.status``, ``lastRetry.duration`` and
  ``lastRetry.message`` (:func:`expression_allows`): false ends the retries, as in Argo.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ....argo.durations import argo_duration
from ....retry import Backoff
from .leaf import LeafError
from .model import ERROR, FAILED

POLICIES = {"OnFailure": {FAILED}, "OnError": {ERROR}, "Always": {FAILED, ERROR}, "OnTransientError": set()}


def _duration(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    seconds = argo_duration(str(value).strip()) if not isinstance(value, int | float) else float(value)
    if seconds is None or seconds < 0:
        raise LeafError(f"{what} {value!r} is not a duration (e.g. \"30s\", \"2m\" or a number of seconds)")
    return seconds


def _integer(value: Any, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise LeafError(f"{what} must be an integer, got {value!r}") from None


@dataclass
class RetryPolicy:
    limit: int | None
    retry_on: set[str]
    backoff: Backoff | None = None
    max_duration: float | None = None

    @classmethod
    def parse(cls, strategy: Any) -> RetryPolicy:
        """From a substituted ``retryStrategy`` (None or missing -> never retry)."""
        if not isinstance(strategy, dict):
            return cls(limit=0, retry_on=set())
        limit = None if strategy.get("limit") is None else max(0, _integer(strategy["limit"], "retryStrategy.limit"))
        name = strategy.get("retryPolicy") or "OnFailure"
        if name not in POLICIES:
            raise LeafError(f"{name} is not a valid RetryPolicy")
        backoff, max_duration = None, None
        raw = strategy.get("backoff")
        if isinstance(raw, dict):
            first = _duration(raw.get("duration"), "retryStrategy.backoff.duration") or 0.0
            factor = 1.0 if raw.get("factor") in (None, "") else float(_integer(raw["factor"], "backoff.factor"))
            cap = _duration(raw.get("cap"), "retryStrategy.backoff.cap")
            backoff = Backoff(first=first, factor=max(factor, 1.0), cap=math.inf if cap is None else cap, jitter=0.0)
            max_duration = _duration(raw.get("maxDuration"), "retryStrategy.backoff.maxDuration")
        return cls(limit=limit, retry_on=set(POLICIES[name]), backoff=backoff, max_duration=max_duration)

    def delays(self) -> Iterator[float]:
        if self.backoff is None:
            while True:
                yield 0.0
        yield from self.backoff.delays(rng=lambda: 0.0)

    def next_delay(self, delays: Iterator[float], phase: str, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before another attempt after ``attempt`` (0-based) ended in ``phase``; None: stop."""
        if phase not in self.retry_on or (self.limit is not None and attempt >= self.limit):
            return None
        delay = next(delays)
        if self.backoff is not None:
            delay = min(delay, self.backoff.cap)
        if self.max_duration is not None and elapsed + delay > self.max_duration:
            return None
        return delay


def expression_allows(strategy: Any, scope: dict[str, str], *, phase: str, exit_code: int | None, message: str,
                      duration: float) -> bool:
    """Whether ``retryStrategy.expression`` lets another attempt start (True when there is none); an expression
    that cannot be evaluated raises :class:`.leaf.LeafError` (the node ends in Error)."""
    text = strategy.get("expression") if isinstance(strategy, dict) else None
    if not isinstance(text, str) or not text.strip():
        return True
    last = {"lastRetry.exitCode": "" if exit_code is None else str(exit_code), "lastRetry.status": phase,
            "lastRetry.duration": f"{duration:.0f}", "lastRetry.message": message}
    try:
        from ....argo import expr

        value = expr.evaluate_field(text, {**scope, **last})
    except Exception as exc:  # ExpressionError, or the evaluator missing (refused before the run)
        raise LeafError(f"retryStrategy.expression: {exc}") from None
    if not isinstance(value, bool):
        raise LeafError(f"retryStrategy.expression: unable to cast expression result {value!r} to bool")
    return value


def deadline(tmpl: dict) -> float | None:
    """The tighter of a substituted template's ``activeDeadlineSeconds`` and ``timeout``, in seconds."""
    limits = []
    if tmpl.get("activeDeadlineSeconds") not in (None, ""):
        seconds = _integer(tmpl["activeDeadlineSeconds"], "activeDeadlineSeconds")
        if seconds <= 0:
            raise LeafError("activeDeadlineSeconds must be a positive integer")
        limits.append(float(seconds))
    if tmpl.get("timeout") not in (None, ""):
        limits.append(_duration(tmpl["timeout"], "timeout") or 0.0)
    return min(limits) if limits else None
