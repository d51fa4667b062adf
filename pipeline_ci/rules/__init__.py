"""The rule registry: every lint rule is one module listed in :data:`RULE_MODULES`.

Each module has ``ID`` (stable, e.g. ``A07``), ``NAME`` (kebab-case), ``SEVERITY`` (the
default, ``error`` or ``warning``), a docstring with a passing and a failing example, and
``check(ctx)`` yielding :class:`~pipeline_ci.rules.base.Hit`. ``docs/rules.md`` and the
example tests are generated from the docstrings.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

RULE_MODULES: tuple[str, ...] = (
    # files and schemas
    "yaml_syntax",
    "duplicate_key",
    "schema",
    "unknown_key",
    # Argo spec (A-numbers follow argo-workflows.md section 3)
    "spec_document",
    "entrypoint",
)


@cache
def all_rules() -> tuple[ModuleType, ...]:
    """Every rule module, imported once, in registry order."""
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in RULE_MODULES)


def by_key() -> dict[str, ModuleType]:
    """Rules by ID and by name (both are accepted in configuration and comments)."""
    out: dict[str, ModuleType] = {}
    for rule in all_rules():
        out[rule.ID] = rule
        out[rule.NAME] = rule
    return out
