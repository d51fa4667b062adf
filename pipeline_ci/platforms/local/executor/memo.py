"""``memoize`` for local runs (Argo docs ``memoization/``): a template's outputs cached by its ``key``.

Argo keeps the cache in a ConfigMap (``memoize.cache.configMap.name``); locally each such cache is a folder
``<project>/.pipeline-ci/memo/<configmap>/`` holding one JSON file per key (its SHA-256), written atomically
after a node of the template succeeds. A later node of a template with the same cache and key is not run:
it Succeeds at once with the saved outputs ("memoized"), unless the entry is older than ``maxAge`` (a Go
duration; without one an entry never expires, as in Argo). Only successful nodes are saved, as in Argo.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .... import lockfiles
from ....argo.durations import argo_duration
from ....argo.local_support import mapping


@dataclass(frozen=True)
class Memo:
    """One memoized call: which cache, which key, how old an entry may be (seconds; None: any age)."""

    cache: str
    key: str
    max_age: float | None


def memo_of(tmpl: dict) -> Memo | None:
    """The (substituted) template's ``memoize``, or None; a bad ``maxAge`` raises ValueError."""
    body = mapping(tmpl.get("memoize"))
    if not body:
        return None
    cache = str(mapping(mapping(body.get("cache")).get("configMap")).get("name") or "default")
    raw_age = body.get("maxAge")
    age = None
    if raw_age not in (None, ""):
        age = argo_duration(str(raw_age).strip())
        if age is None:
            raise ValueError(f"memoize.maxAge {raw_age!r} is not a duration (e.g. \"10s\", \"1h\")")
    return Memo(cache, str(body.get("key") or ""), age)


class MemoCache:
    """The memo caches of a project (``.pipeline-ci/memo``)."""

    def __init__(self, root: Path):
        self.root = root

    def _file(self, memo: Memo) -> Path:
        folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", memo.cache)[:100] or "default"
        return self.root / folder / (hashlib.sha256(memo.key.encode()).hexdigest() + ".json")

    def get(self, memo: Memo) -> dict[str, Any] | None:
        """The saved entry (``outputs``, ``result``, ``created``) when there is a fresh one."""
        try:
            entry = json.loads(self._file(memo).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != memo.key or not isinstance(entry.get("outputs"), dict):
            return None
        created = entry.get("created")
        if not isinstance(created, int | float):
            return None
        if memo.max_age is not None and time.time() - created > memo.max_age:
            return None
        return entry

    def put(self, memo: Memo, outputs: dict[str, str], result: str | None) -> None:
        path = self._file(memo)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"key": memo.key, "created": time.time(), "outputs": outputs, "result": result}
        lockfiles.write_atomic(path, json.dumps(entry))
