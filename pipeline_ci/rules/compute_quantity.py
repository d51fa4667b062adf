"""CPU and memory values in ``pipeline_step_compute_info`` are valid Kubernetes quantities.

``cpu_limit``, ``cpu_requests``, ``cpu_memory``, ``cpu_memory_requests`` and
``accelerator_memory`` (or their lowerCamel names) become the step container's resource
requests and limits. The SDK sends any string; a malformed one (``2GB``, ``1.5 Gi``, ``half``)
is rejected by the platform after the upload, when the step runs (Kubernetes: ``quantities must
match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'``). Accepted forms:
a non-negative number (``1``, ``0.5``, ``.5``, ``1e3``) with an optional suffix: ``m`` (milli),
``k``/``M``/``G``/``T``/``P``/``E`` (powers of 1000), ``Ki``/``Mi``/``Gi``/``Ti``/``Pi``/``Ei``
(powers of 1024) or an exponent (``e3``). Types (a float ``0.5`` for ``cpu_limit``) are checked
by ``schema``.

Passing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: "1.5"
      cpu_requests: 500m
      cpu_memory: 2Gi
      cpuMemoryRequests: "1e9"
      accelerator_memory: 24G

Failing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: 500m
      cpu_memory: 2GB  # <-- not a quantity; 2G or 2Gi
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at

ID = "C11"
NAME = "compute-quantity"
SEVERITY = "error"
TARGET = "clarifai"

FIELDS = (
    "cpu_limit", "cpuLimit", "cpu_requests", "cpuRequests",
    "cpu_memory", "cpuMemory", "cpu_memory_requests", "cpuMemoryRequests",
    "accelerator_memory", "acceleratorMemory",
)  # fmt: skip
NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
QUANTITY_RE = lazy_re(rf"^\+?{NUMBER}(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
SECTION = "pipeline_step_compute_info"


def _suffix(m: re.Match[str]) -> str:
    binary = bool(m[3])
    letter = m[2].upper() if binary or m[2].lower() != "k" else "k"
    return m[1] + letter + ("i" if binary else "")


def hint(value: str) -> str:
    """A suggestion for common mistakes such as ``2GB``, ``512 Mi``, ``1.5gi``."""
    compact = value.replace(" ", "")
    fixed = re.sub(r"(?i)^(.*?)([kmgtpe])(i?)b?$", _suffix, compact)
    if fixed != value and QUANTITY_RE.match(fixed):
        return f"; did you mean {fixed!r}?"
    return ""


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in ctx.project.steps:
        config = step.config
        section = config.get((SECTION,)) if config is not None else None
        if config is None or not isinstance(section, dict):
            continue
        for key in FIELDS:
            value = section.get(key)
            if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
                continue
            text = str(value)
            if text.startswith("-"):
                yield at(config, (SECTION, key), f"{key} {text!r} is negative; resources must be >= 0")
            elif not QUANTITY_RE.match(text):
                yield at(
                    config,
                    (SECTION, key),
                    f"{key} {text!r} is not a Kubernetes quantity (a number with an optional suffix such as "
                    f"500m, 1, 0.5, 512Mi, 2Gi, 2G, 1e3){hint(text)}",
                )
