"""Every docstring example of every rule runs: passing ones are clean, failing ones fire the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_ci.lint import lint_paths
from pipeline_ci.rules import all_rules
from pipeline_ci.rules.examples import examples, materialize, render_markdown

from .conftest import REPO

CASES = [
    pytest.param(rule, ex, id=f"{rule.ID}-{rule.NAME}-{i}-{'pass' if ex.passing else 'fail'}")
    for rule in all_rules()
    for i, ex in enumerate(examples(rule))
]


def test_every_rule_has_a_passing_and_a_failing_example():
    for rule in all_rules():
        kinds = {ex.passing for ex in examples(rule)}
        assert kinds == {True, False}, f"{rule.ID} {rule.NAME} needs both a passing and a failing example"


def test_rule_ids_and_names_are_unique_and_well_formed():
    ids = [r.ID for r in all_rules()]
    names = [r.NAME for r in all_rules()]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    for rule in all_rules():
        assert rule.SEVERITY in ("error", "warning")
        assert rule.__name__.rsplit(".", 1)[1].replace("_", "-") == rule.NAME


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_example(rule, example, tmp_path: Path):
    marks = materialize(example, tmp_path)
    result = lint_paths([tmp_path])
    found = [(f.rule, Path(f.file).resolve().relative_to(tmp_path.resolve()).as_posix(), f.line) for f in result.findings]
    if example.passing:
        assert result.findings == [], f"passing example of {rule.ID} has findings: {found}"
        return
    mine = [f for f in found if f[0] == rule.ID]
    assert mine, f"failing example of {rule.ID} did not fire it; findings: {found}"
    for file, line in marks:
        assert (rule.ID, file, line) in mine, f"{rule.ID} expected at {file}:{line}, got {mine}"


def test_docs_are_generated_from_docstrings():
    current = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == render_markdown(), "docs/rules.md is stale: run `pipeline-ci rules --format markdown > docs/rules.md`"
