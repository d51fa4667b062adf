"""The rule registry: every lint rule is one module listed in :data:`RULE_MODULES`.

Each module has ``ID`` (stable, e.g. ``A07``), ``NAME`` (kebab-case), ``SEVERITY`` (the
default, ``error`` or ``warning``), ``TARGET`` (the kind of thing it checks: ``clarifai``, ``manifest`` or
``overrides``, see :mod:`pipeline_ci.rules.base`), a docstring with a passing and a failing example, and
``check(ctx)`` yielding :class:`~pipeline_ci.rules.base.Hit`. ``docs/rules.md`` and the
example tests are generated from the docstrings. The linter knows no rule by name: it runs
:func:`for_target` of each target kind on each context of that kind.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

RULE_MODULES: tuple[str, ...] = (
    # files and schemas
    "yaml_syntax",  # F01
    "duplicate_key",  # F02
    "suppression_comment",  # F03
    "schema",  # S01
    "unknown_key",  # S02
    # Argo Workflow spec embedded in the root config (A-numbers; docs/rules.md)
    "spec_document",  # A01
    "unknown_field",  # A04
    "field_types",  # A05
    "workflow_name",  # A06
    "entrypoint",  # A07
    "on_exit",  # A08
    "template_name",  # A09
    "workflow_parameters",  # A10
    "unused_template",  # A11
    "template_type",  # A12
    "leaf_only_fields",  # A13
    "io_parameters",  # A14
    "retry_strategy",  # A15
    "step_name",  # A17
    "step_callee",  # A18
    "loops",  # A19
    "argument_values",  # A20
    "callee_inputs",  # A21
    "dag_tasks",  # A22
    "depends_expression",  # A23
    "dag_cycle",  # A24
    "dependency_style",  # A25
    "items_condition",  # A26
    "dag_target",  # A27
    "workflow_parameter_ref",  # A28
    "input_parameter_ref",  # A29
    "steps_ref",  # A30
    "tasks_ref",  # A31
    "item_ref",  # A32
    "unknown_variable",  # A33
    "expression_tag",  # A34
    "when_expression",  # A35
    "clarifai_templateref",  # A36
    "ref_owner",  # A37
    "step_arguments",  # A39
    "unguarded_recursion",  # A40
    "local_unsupported",  # A41
    # Clarifai step folders and cross-file references
    "placeholder_id",  # C01
    "python_version",  # C10
    "compute_quantity",  # C11
    "requirements",  # C12
    "step_script",  # C13
    "argparse_params",  # C14
    "templateref_step",  # X01
    "step_directory",  # X02
    "secret_step_name",  # X04
    "secret_path",  # X05
    # lockfiles
    "lock_refs",  # L02
    "lock_ids",  # L03
    "stale_lock",  # L04
    "untracked_files",  # L05
    # Python-defined pipelines
    "dsl_drift",  # D01
    # PAI manifests (P-numbers; docs/rules.md)
    "pai_documents",  # P01
    "pai_manifest_shape",  # P02
    "pai_step_name",  # P03
    "pai_io_names",  # P04
    "pai_dependencies",  # P05
    "pai_dependency_cycle",  # P06
    "pai_reference",  # P07
    "pai_arguments",  # P08
    "pai_parameter_types",  # P09
    "pai_from_types",  # P10
    "pai_guid",  # P11
    "pai_identifier_reference",  # P12
    "pai_loop",  # P13
    # run overrides files
    "overrides_schema",  # O01
    "overrides_parameter",  # O02
)


@cache
def all_rules() -> tuple[ModuleType, ...]:
    """Every rule module, imported once, in registry order."""
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in RULE_MODULES)


@cache
def for_target(target: str) -> tuple[ModuleType, ...]:
    """The rules whose ``TARGET`` is ``target``, in registry order. Only those are imported (plus any module missing
    from :data:`~pipeline_ci.rules.targets.TARGET_OF`, to learn its target): a Clarifai lint never imports the PAI rules.
    """
    from .base import TARGETS
    from .targets import TARGET_OF

    if target not in TARGETS:
        raise KeyError(target)
    out: list[ModuleType] = []
    for name in RULE_MODULES:
        if TARGET_OF.get(name, target) != target:
            continue
        rule = importlib.import_module(f"{__name__}.{name}")
        if rule.TARGET not in TARGETS:
            raise ValueError(f"rule {rule.ID} {rule.NAME}: unknown TARGET {rule.TARGET!r} (one of {', '.join(TARGETS)})")
        if target == rule.TARGET:
            out.append(rule)
    return tuple(out)


def by_key() -> dict[str, ModuleType]:
    """Rules by ID and by name (both are accepted in configuration and comments)."""
    out: dict[str, ModuleType] = {}
    for rule in all_rules():
        out[rule.ID] = rule
        out[rule.NAME] = rule
    return out


def find(key: str) -> ModuleType | None:
    """The rule with ID or name ``key`` (IDs case-insensitively: ``a39`` is ``A39``), or None."""
    rules = by_key()
    return rules.get(key) or rules.get(key.upper())


def suggest(key: str) -> str | None:
    """The rule ID or name closest to a misspelt ``key`` (difflib), or None."""
    import difflib

    close = difflib.get_close_matches(key, list(by_key()), n=1, cutoff=0.6)
    return close[0] if close else None
