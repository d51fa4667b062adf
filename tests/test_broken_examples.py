"""Each project under examples/broken/ shows one common mistake; EXPECTED lists exactly what it yields.

``EXPECTED`` holds one ``RULE relative/file:line`` per line (``#`` starts a comment).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_ci.lint import lint_paths

from .conftest import REPO

CASES = sorted(p for p in (REPO / "examples" / "broken").iterdir() if (p / "EXPECTED").is_file())


def expected(case: Path) -> set[tuple[str, str, int]]:
    out = set()
    for raw in (case / "EXPECTED").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            rule, where = line.split()
            file, number = where.rsplit(":", 1)
            out.add((rule, file, int(number)))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_example(case: Path):
    result = lint_paths([case])
    got = {(f.rule, Path(f.file).resolve().relative_to(case.resolve()).as_posix(), f.line) for f in result.findings}
    assert got == expected(case)
    assert result.errors > 0, "a broken example must fail the lint"


def test_there_are_broken_examples():
    assert len(CASES) >= 8
