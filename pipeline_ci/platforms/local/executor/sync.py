"""``synchronization`` of templates within one local run (Argo docs ``synchronization/``).

A template's ``synchronization`` (``mutex``/``semaphore``, or the lists ``mutexes``/``semaphores``) is
honoured between the nodes of this run: a node takes every lock it names (in a fixed order, so two nodes
never deadlock on each other) before it starts and gives them back when it ends. A mutex admits one node
at a time; a semaphore as many as its limit. The limit of a semaphore lives in a ConfigMap on a cluster
(``configMapKeyRef``): locally it comes from ``--semaphore CONFIGMAP/KEY=N`` (or ``KEY=N``); a semaphore
without one is refused before the run starts (:mod:`pipeline_ci.argo.local_support`). Workflow-level ``synchronization``
guards a workflow against other workflows: one local run is always alone, so it is granted at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from ....argo.local_support import mapping, semaphore_limit
from .model import Stop, acquire_all


def semaphore_refs(sync: Any) -> Iterator[tuple[str, str]]:
    """``(configmap, key)`` of every semaphore of a ``synchronization`` mapping (``key`` may be empty)."""
    body = mapping(sync)
    items = [body.get("semaphore")] + list(body.get("semaphores") or [])
    for item in items:
        ref = mapping(mapping(item).get("configMapKeyRef"))
        if ref:
            yield str(ref.get("name") or ""), str(ref.get("key") or "")


def parse_limits(values: Mapping[str, str] | list[str] | tuple[str, ...]) -> dict[str, int]:
    """``["my-config/workflow=2"]`` -> ``{"my-config/workflow": 2}``; raises ValueError naming a bad entry."""
    out: dict[str, int] = {}
    items = [f"{k}={v}" for k, v in values.items()] if isinstance(values, Mapping) else list(values)
    for item in items:
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not number.strip().isdigit() or int(number) < 1:
            raise ValueError(f"--semaphore {item!r}: expected CONFIGMAP/KEY=N (or KEY=N) with N a positive integer")
        out[name.strip()] = int(number)
    return out


class Locks:
    """The mutexes and semaphores of one run, created on first use."""

    def __init__(self, limits: Mapping[str, int]):
        self.limits = dict(limits)
        self._made: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def _locks(self, sync: Any) -> list[tuple[str, int]]:
        body = mapping(sync)
        wanted: dict[str, int] = {}
        for item in [body.get("mutex")] + list(body.get("mutexes") or []):
            name = mapping(item).get("name")
            if name:
                wanted[f"mutex/{name}"] = 1
        for configmap, key in semaphore_refs(body):
            limit = semaphore_limit(self.limits, configmap, key)
            wanted[f"semaphore/{configmap}/{key}"] = limit if limit is not None else 1
        return sorted(wanted.items())

    def acquire(self, sync: Any, stop: Stop) -> tuple[threading.Semaphore, ...] | None:
        """Take every lock ``sync`` names (give them back with :func:`.model.release_all`); None (holding none) if
        ``stop`` fires while waiting."""
        wanted = self._locks(sync)
        with self._lock:
            sems = tuple(self._made.setdefault(key, threading.Semaphore(limit)) for key, limit in wanted)
        return sems if acquire_all(sems, stop) else None

    def names(self, sync: Any) -> list[str]:
        return [key for key, _ in self._locks(sync)]
