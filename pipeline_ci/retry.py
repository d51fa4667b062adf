"""Exponential backoff with full jitter, shared by every remote call and poll loop."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import PlatformError


@dataclass(frozen=True)
class Backoff:
    """Delays ``first * factor**n`` capped at ``cap``; ``jitter`` is the random fraction taken off."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5

    def delays(self, rng: Callable[[], float] = random.random) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay * (1 - self.jitter * rng())
            delay = min(self.cap, delay * self.factor)


class RetryableError(PlatformError):
    """Raised by an attempt that may succeed if tried again; ``retry_after`` overrides the next delay."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def call_with_retries(
    attempt: Callable[[], object],
    *,
    attempts: int = 6,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, RetryableError, float], None] | None = None,
) -> object:
    """Run ``attempt`` until it returns, retrying :class:`RetryableError` up to ``attempts`` times."""
    delays = backoff.delays()
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except RetryableError as exc:
            if number == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else next(delays)
            if on_retry:
                on_retry(number, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")
