"""Output formats, exit codes, configuration files and inline suppressions, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pipeline_ci.findings import Finding
from pipeline_ci.lint import LintResult
from pipeline_ci.report import github_format
from pipeline_ci.testing.projects import base_files, root_config

from .conftest import REPO, write_files

SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"  # origin: tests/data/README.md
BAD_SPEC = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: nope
  templates:
  - name: main
    steps: []
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    files = base_files()
    files["config.yaml"] = root_config(BAD_SPEC)
    files["stepA/config.yaml"] = files["stepA/config.yaml"].replace("  app_id: a1\n", "  app_id: a1\n  colour: red\n")
    return write_files(tmp_path / "proj", files)


def test_text_format_and_exit_code(broken: Path):
    result = cli("lint", "proj", cwd=broken.parent)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "proj/config.yaml:13:21: error [A07] template name 'nope' undefined (spec.entrypoint)" in lines
    assert any(line.startswith("proj/stepA/config.yaml:5:3: warning [S02]") for line in lines)
    assert lines[-1] == "1 error(s), 1 warning(s) in 1 project(s)"


def test_warnings_alone_exit_zero(tmp_path: Path):
    files = base_files()
    files["stepA/config.yaml"] += "colour: red\n"
    root = write_files(tmp_path / "proj", files)
    result = cli("lint", str(root))
    assert result.returncode == 0 and "[S02]" in result.stdout


def test_json_format_is_versioned(broken: Path):
    result = cli("lint", "--format", "json", "proj", cwd=broken.parent)
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["summary"] == {"errors": 1, "warnings": 1, "projects": 1}
    first = next(f for f in data["findings"] if f["rule"] == "A07")
    assert first == {
        "file": "proj/config.yaml", "line": 13, "column": 21, "rule": "A07", "name": "entrypoint",
        "severity": "error", "message": "template name 'nope' undefined (spec.entrypoint)", "path": "spec.entrypoint",
    }


def test_github_format(broken: Path):
    result = cli("lint", "--format", "github", "proj", cwd=broken.parent)
    assert "::error file=proj/config.yaml,line=13,col=21,title=A07 entrypoint::template name 'nope' undefined" in (
        result.stdout
    )
    assert result.stdout.count("::warning ") == 1


def test_github_escaping():
    f = Finding("a,b:c.yaml", 1, 2, "X01", "n", "error", "100% bad\nreally")
    assert github_format.command(f) == "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=X01 n::100%25 bad%0Areally"


def test_sarif_validates_against_the_official_schema(broken: Path, tmp_path: Path):
    out = tmp_path / "report.sarif"
    result = cli("lint", "--format", "sarif", "-o", str(out), "proj", cwd=broken.parent)
    assert result.returncode == 1
    assert result.stdout == ""  # -o: the report goes to the file only, one summary line to stderr
    assert result.stderr == f"pipeline-ci: wrote the sarif report to {out}: 1 error(s), 1 warning(s) in 1 project(s)\n"
    doc = json.loads(out.read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft4Validator)
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    a07 = next(r for r in run["results"] if r["ruleId"] == "A07")
    assert rule_ids[a07["ruleIndex"]] == "A07"
    assert a07["locations"][0]["physicalLocation"]["region"] == {"startLine": 13, "startColumn": 21}


def test_empty_result_sarif_is_valid():
    from pipeline_ci.report import render

    doc = json.loads(render("sarif", LintResult()))
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()), cls=jsonschema.Draft4Validator)


def test_settings_file_disables_and_changes_severity(broken: Path):
    (broken / ".pipeline-ci.yaml").write_text("disable: [entrypoint]\nseverity: {S02: error}\n")
    result = cli("lint", str(broken))
    assert "[A07]" not in result.stdout
    assert "error [S02]" in result.stdout and result.returncode == 1


def test_pyproject_settings_are_found_upwards(broken: Path):
    (broken.parent / "pyproject.toml").write_text('[tool.pipeline-ci]\ndisable = ["A07", "S02"]\n')
    result = cli("lint", str(broken))
    assert result.returncode == 0, result.stdout


def test_settings_ignore_paths(broken: Path):
    (broken.parent / ".pipeline-ci.yaml").write_text("ignore: ['proj']\n")
    assert cli("lint", str(broken)).returncode == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [("rules: 1\n", "unknown setting"), ("severity: {A07: fatal}\n", "must be 'error' or 'warning'"),
     ("disable: A07\n", "must be lists"), (": [\n", "invalid YAML")],
)
def test_bad_settings_are_usage_errors(broken: Path, content: str, message: str):
    (broken / ".pipeline-ci.yaml").write_text(content)
    result = cli("lint", str(broken))
    assert result.returncode == 2 and message in result.stderr


def test_inline_suppressions(broken: Path):
    config = broken / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: nope", "entrypoint: nope  # pipeline-ci: disable=A07"))
    step = broken / "stepA" / "config.yaml"
    step.write_text(step.read_text().replace("  colour: red\n", "  # pipeline-ci: disable=unknown-key\n  colour: red\n"))
    result = cli("lint", str(broken))
    assert result.returncode == 0 and "[A07]" not in result.stdout and "[S02]" not in result.stdout


def test_file_level_suppression(broken: Path):
    config = broken / "config.yaml"
    config.write_text("# pipeline-ci: disable-file=A07\n" + config.read_text())
    assert "[A07]" not in cli("lint", str(broken)).stdout


def test_select_runs_only_the_named_rules(broken: Path):
    result = cli("lint", "--select", "S02", str(broken))
    assert "[A07]" not in result.stdout and "[S02]" in result.stdout
    assert cli("lint", "--select", "NOPE", str(broken)).returncode == 2


def test_schema_and_rules_commands():
    result = cli("schema", "step-config")
    assert result.returncode == 0 and json.loads(result.stdout)["$schema"].endswith("2020-12/schema")
    assert cli("schema", "nope").returncode == 2
    listing = cli("rules")
    assert listing.returncode == 0 and "A07  entrypoint" in listing.stdout
