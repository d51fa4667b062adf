"""Large monorepos are linted on several processes; the result is the same as linting serially."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_ci import lint as lint_module
from pipeline_ci.lint import lint_paths
from pipeline_ci.testing.projects import base_files

from .conftest import write_files


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    for i in range(40):
        files = base_files()
        files["config.yaml"] = files["config.yaml"].replace("id: demo", f"id: demo{i}")
        if i % 7 == 0:
            files["config.yaml"] = files["config.yaml"].replace("entrypoint: main", "entrypoint: nope")
        if i % 5 == 0:
            files["stepA/config.yaml"] += "colour: red\n"
        write_files(tmp_path / "mono" / f"p{i:02d}", files)
    return tmp_path / "mono"


def test_parallel_and_serial_results_are_identical(monorepo: Path, monkeypatch):
    parallel = lint_paths([monorepo])
    monkeypatch.setattr(lint_module, "PARALLEL_FROM", 10_000)
    serial = lint_paths([monorepo])
    assert parallel.findings == serial.findings and parallel.projects == serial.projects
    assert {f.rule for f in serial.findings} == {"A07", "S02"}
    assert len(serial.projects) == 40 and serial.errors == 6 and serial.warnings == 8
