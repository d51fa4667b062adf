"""Output formats, exit codes, configuration files and inline suppressions, through the real CLI."""

from __future__ import annotations

import json
import os
import re
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


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``pipeline-ci ARGS`` without the machine's GITHUB_* variables (paths would be relative to its workspace), plus
    ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=clean)


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


URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@/]|%[0-9A-F]{2})(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")


def test_sarif_uri_is_a_percent_encoded_uri_reference(broken: Path):
    """SARIF 2.1.0 §3.4.3: artifactLocation.uri is a URI reference (RFC 3986), so `#`, `%`, spaces, `:` and
    non-ASCII characters of a path are percent-encoded (UTF-8), `/` is kept."""
    odd = broken.rename(broken.parent / "a#b 50%:é?")
    result = cli("lint", "--format", "sarif", odd.name, cwd=odd.parent)
    assert result.returncode == 1, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r["locations"]}
    assert uris == {"a%23b%2050%25%3A%C3%A9%3F/config.yaml", "a%23b%2050%25%3A%C3%A9%3F/stepA/config.yaml"}
    others = [run["tool"]["driver"]["informationUri"], *(r["helpUri"] for r in run["tool"]["driver"]["rules"])]
    for value in [*uris, *(u.split("#", 1)[1] for u in others if "#" in u)]:
        assert URI_REFERENCE.fullmatch(value), value


def sarif_locations(doc: dict) -> list[dict]:
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    return [loc["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"] for loc in r["locations"]]


def test_github_and_sarif_paths_are_relative_to_the_workspace(broken: Path, tmp_path: Path):
    """In Actions, GitHub resolves annotation paths against $GITHUB_WORKSPACE (actions/toolkit#224) and upload-sarif
    resolves SARIF uris against the checkout: both name files from the workspace when lint runs in a subfolder
    (the action's working-directory), still percent-encoded in SARIF."""
    (tmp_path / "a b").mkdir()
    sub = broken.rename(tmp_path / "a b" / "proj").parent
    env = {"GITHUB_WORKSPACE": str(tmp_path)}
    github = cli("lint", "--format", "github", "proj", cwd=sub, env=env)
    assert github.returncode == 1, github.stderr
    assert "::error file=a b/proj/config.yaml,line=13,col=21,title=A07 entrypoint::" in github.stdout
    assert "::warning file=a b/proj/stepA/config.yaml,line=5,col=3," in github.stdout
    out = tmp_path / "lint.sarif"
    sarif = cli("lint", "--format", "sarif", "-o", str(out), "proj", cwd=sub, env=env)
    assert sarif.returncode == 1, sarif.stderr
    doc = json.loads(out.read_text())
    assert sorted(loc["uri"] for loc in sarif_locations(doc)) == ["a%20b/proj/config.yaml",
                                                                  "a%20b/proj/stepA/config.yaml"]
    assert {loc["uriBaseId"] for loc in sarif_locations(doc)} == {"%SRCROOT%"}
    assert doc["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    # without GITHUB_WORKSPACE: relative to the working directory, as before, and %SRCROOT% left to the consumer
    local = json.loads(cli("lint", "--format", "sarif", "proj", cwd=sub).stdout)
    assert sorted(loc["uri"] for loc in sarif_locations(local)) == ["proj/config.yaml", "proj/stepA/config.yaml"]
    assert "originalUriBaseIds" not in local["runs"][0]


def test_files_outside_the_workspace_stay_absolute(broken: Path, tmp_path: Path):
    """A file outside $GITHUB_WORKSPACE: an absolute path in the annotation, an absolute file: URI (no uriBaseId,
    SARIF 2.1.0 §3.4.4) in SARIF, never a path resolved against the wrong folder."""
    (tmp_path / "ws").mkdir()
    env = {"GITHUB_WORKSPACE": str(tmp_path / "ws")}
    real = broken.resolve()
    github = cli("lint", "--format", "github", "proj", cwd=broken.parent, env=env)
    assert f"::error file={real.as_posix()}/config.yaml,line=13,col=21," in github.stdout
    doc = json.loads(cli("lint", "--format", "sarif", "proj", cwd=broken.parent, env=env).stdout)
    locations = sarif_locations(doc)
    assert sorted(loc["uri"] for loc in locations) == [(real / "config.yaml").as_uri(),
                                                       (real / "stepA" / "config.yaml").as_uri()]
    assert all("uriBaseId" not in loc for loc in locations)


def test_select_ignores_empty_items_and_refuses_an_empty_list(broken: Path):
    result = cli("lint", "--select", "S02,, A07,", str(broken))
    assert result.returncode == 1 and "[A07]" in result.stdout and "[S02]" in result.stdout, result.stderr
    empty = cli("lint", "--select", ",", str(broken))
    assert empty.returncode == 2 and "--select names no rule: ','" in empty.stderr


@pytest.mark.parametrize(("flag", "dest", "what"), [
    ("-o", "proj/config.yaml", "it is proj/config.yaml, a file of project proj"),
    ("--sarif-file", "proj/stepA/config.yaml", "it is proj/stepA/config.yaml, a file of project proj"),
    ("-o", "proj/stepA/report.txt", "it is inside step folder proj/stepA, all of whose files are hashed and uploaded"),
    ("--sarif-file", "proj/config-lock.yaml", "it is a file named config-lock.yaml inside project proj"),
    ("-o", "proj/overrides-ci.json", "it is a file named overrides-ci.json inside project proj"),
])
def test_report_never_overwrites_what_the_lint_reads(broken: Path, flag: str, dest: str, what: str):
    before = {p: p.read_bytes() for p in broken.rglob("*") if p.is_file()}
    result = cli("lint", flag, dest, "proj", cwd=broken.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"refusing to write the report to {dest}: {what}" in result.stderr.replace("\n", " ")
    assert result.stdout == "" and {p: p.read_bytes() for p in broken.rglob("*") if p.is_file()} == before


def test_report_through_a_symlink_and_beside_the_project(broken: Path):
    (broken.parent / "link").symlink_to(broken / "stepA" / "config.yaml")
    result = cli("lint", "-o", "link", "proj", cwd=broken.parent)
    assert result.returncode == 2 and "it is proj/stepA/config.yaml, a file of project proj" in result.stderr
    ok = cli("lint", "-o", "proj/lint-report.txt", "--sarif-file", "lint.sarif", "proj", cwd=broken.parent)
    assert ok.returncode == 1, ok.stderr
    assert "[A07]" in (broken / "lint-report.txt").read_text() and (broken.parent / "lint.sarif").is_file()


def test_suppression_with_an_unknown_rule_is_reported_where_it_is(broken: Path):
    config = broken / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: nope", "entrypoint: nope  # pipeline-ci: disable=A7, a07"))
    result = cli("lint", "proj", cwd=broken.parent)
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and any("[A07]" in line for line in lines)  # nothing valid suppressed it
    assert ("proj/config.yaml:13:50: warning [F03] unknown rule 'A7' in `# pipeline-ci: disable=`: it suppresses "
            "nothing; did you mean 'A07'?") in lines
    assert ("proj/config.yaml:13:54: warning [F03] unknown rule 'a07' in `# pipeline-ci: disable=`: it suppresses "
            "nothing; did you mean 'A07'?") in lines


@pytest.mark.parametrize("reason", [" because the entrypoint is set by CI", "  -- reviewed, A07 is expected", ""])
def test_suppression_takes_a_reason_after_the_rule_list(broken: Path, reason: str):
    config = broken / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: nope", f"entrypoint: nope  # pipeline-ci: disable=A07,"
                                                                     f" unknown-key{reason}"))
    result = cli("lint", "--select", "A07,F03", "proj", cwd=broken.parent)
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "no problems found in 1 project(s)", (
        result.stdout)


@pytest.mark.parametrize(("comment", "message"), [
    ("disable=A07.", "13:50: warning [F03] `# pipeline-ci: disable=`: unexpected '.' after the rule list (a reason "
                     "follows the list after a blank)"),
    ("disable A07", "13:42: warning [F03] `# pipeline-ci: disable=`: expected '=' and the rules after 'disable'"),
    ("disable-file=", "13:55: warning [F03] `# pipeline-ci: disable-file=`: names no rule"),
])
def test_malformed_suppression_is_reported(broken: Path, comment: str, message: str):
    config = broken / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: nope", f"entrypoint: nope  # pipeline-ci: {comment}"))
    result = cli("lint", "proj", cwd=broken.parent)
    assert f"proj/config.yaml:{message}" in result.stdout.splitlines(), result.stdout


@pytest.mark.parametrize(("value", "suppressed"), [
    ('"{{workflow.parameters.nope}} # pipeline-ci: disable=A28"]', False),
    ("'{{workflow.parameters.nope}} # pipeline-ci: disable=A28']", False),
    ('"{{workflow.parameters.nope}}"]  # pipeline-ci: disable=A28', True),  # a real comment
])
def test_suppression_inside_a_quoted_string_is_not_a_comment(tmp_path: Path, value: str, suppressed: bool):
    spec = BAD_SPEC.replace("entrypoint: nope", "entrypoint: main").replace(
        "    steps: []\n", f"    container:\n      image: alpine\n      args: [echo, {value}\n")
    files = base_files()
    files["config.yaml"] = root_config(spec)
    write_files(tmp_path / "proj", files)
    result = cli("lint", "--select", "A28", "proj", cwd=tmp_path)
    assert result.returncode == (0 if suppressed else 1) and ("[A28]" not in result.stdout) == suppressed, (
        result.stdout + result.stderr)


def test_comment_start_follows_yaml_quoting():
    from pipeline_ci.suppress import comment_start

    assert comment_start("a: it's # c") == 8  # an apostrophe inside a plain scalar opens no quote
    assert comment_start("a: 'it''s # not' # c") == 17
    assert comment_start(r'- "a\" # not" # c') == 14
    assert comment_start("a: [x, 'y # not'] # c") == 18
    assert comment_start("a: b#not") == -1 and comment_start("# c") == 0


def test_python_suppressions_are_real_comments_only():
    from pipeline_ci.suppress import parse

    lines = ['x = "a # pipeline-ci: disable=A07"', "y = f(1)  # pipeline-ci: disable=A09 -- reason",
             's = """', "# pipeline-ci: disable=A10", '"""']
    assert parse(lines, python=True).by_line == {2: {"A09"}}
