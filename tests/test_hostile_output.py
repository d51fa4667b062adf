"""Untrusted text never forges output, malformed credentials and overrides fail fast and cleanly.

Through the real CLI: a config value, step folder, file name, step id, remote status or remote log line
carrying a line break, an escape sequence or a workflow command (``::error::``, ``::add-mask::``,
legacy ``##[...]``) is printed escaped on one line; malformed PATs / AccessKeys are refused before any
request; overrides nested 100k deep get lint's F01 message, not a RecursionError.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci import github
from pipeline_ci.report.sarif_format import uri
from pipeline_ci.report.summary import cell, code, link
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.pai_emulator import PaiEmulator
from pipeline_ci.testing.projects import base_files
from pipeline_ci.textsafe import Verbatim, credential_problem, escape_controls, safe_line

from .conftest import write_files

PAT = "pat-hostile-output-secret"
KEY_ID, SECRET, TOKEN = "LTAI-hostile-key-id", "pai-hostile-secret-0123456789", "sts-hostile-token-abcdef"
RUNNING, COMPLETED = 64001, 64002
FAST = ["--max-interval", "0.2"]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
# What a terminal or the Actions runner would act on: C0 controls but tab/newline, DEL, C1, line and
# paragraph separators, bidi overrides and isolates.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OUR_COMMAND = re.compile(r"::stop-commands::pipeline-ci-[0-9a-f]{32}|::pipeline-ci-[0-9a-f]{32}::")
ESC_ID = "stepA\x1b[31mRED\x1b]0;pwned\x07"  # a colour change and a window-title (OSC) sequence
CR_ID = "stepB\r::error::OVERWRITE"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CLARIFAI_", "ALIBABA_", "RUNNER_"))}
    return {**env, **GIT_ENV, **extra}


def cli(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, encoding="utf-8", errors="surrogateescape", timeout=timeout)


def commands_in(text: str) -> list[str]:
    """Lines the GitHub runner would read as a workflow command (``::`` after leading blanks, or ``##[``)."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::") or "##[" in line]


def assert_inert(result: subprocess.CompletedProcess, allowed: re.Pattern[str] | None = None) -> str:
    """No raw control character and no workflow command in stdout or stderr but ``allowed`` ones."""
    output = result.stdout + result.stderr
    assert not RAW_CONTROL.search(output), repr(output)
    assert "Traceback" not in output and "internal error" not in output, output
    stray = [line for line in commands_in(output) if not (allowed and allowed.fullmatch(line))]
    assert not stray, stray
    return output


def project_with(tmp: Path, renames: dict[str, str], entries: dict[str, str] | None = None) -> Path:
    """The rule-example project with step folders renamed (``renames``) and step_directories entries
    replaced by YAML-escaped ``entries``."""
    files = {}
    for name, text in base_files().items():
        for old, new in renames.items():
            name = name.replace(f"{old}/", f"{new}/")
        files[name] = text
    root = write_files(tmp / "proj", files)
    config = root / "config.yaml"
    text = config.read_text()
    for old, entry in (entries or {}).items():
        text = text.replace(f"  - {old}\n", f"  - {entry}\n")
    config.write_text(text)
    return root


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=clean_env(), check=True, capture_output=True)


# ----------------------------------------------------------------- the escaping functions


def test_safe_line_escapes_controls_and_neutralises_commands():
    assert safe_line("prep\n::error::INJ,1:2") == "prep\\n::error::INJ,1:2"
    assert safe_line("::add-mask::x") == "\\x3a:add-mask::x"
    assert safe_line(" \u3000\t::stop-commands::t") == " \u3000\t\\x3a:stop-commands::t"  # runner trims blanks
    assert safe_line("ok ##[add-mask]x") == "ok ##\\x5badd-mask]x"  # the legacy form counts anywhere
    assert safe_line("a\x1b[2J\x9b\u202eb\ud8ff") == "a\\x1b[2J\\x9b\\u202eb\\ud8ff"
    assert safe_line("tab\tand ünïcödé: fine") == "tab\tand ünïcödé: fine"
    for text in ("::x::y", "\r\n::x", "##[x]", "a\u2028::b", " ::\x00"):
        assert safe_line(safe_line(text)) == safe_line(text)  # idempotent: escaped text may pass a printer again
    assert safe_line(Verbatim("::stop-commands::t")) == "::stop-commands::t"
    assert type(Verbatim("::x") + "y") is str  # anything derived from a verbatim line is escaped again
    with pytest.raises(ValueError):
        Verbatim("::x\n::y")
    assert escape_controls("a\r\nb\x1b", keep="\r\n") == "a\r\nb\\x1b"


def test_formats_and_relay_escape_their_own_way():
    assert github.command_data("m\n\x1b[1mx 100%") == "m%0A\\x1b[1mx 100%25"
    assert cell("a\x1b|b") == "a\\\\x1b\\|b" and code("v`1|") == "``v`1\\|``"
    assert link("r\x1bun", "https://h/p (x)") == "[r\\\\x1bun](https://h/p%20%28x%29)"
    assert link("run", "javascript:alert(1)") == "run"
    assert uri("a\x1bb\udcff.yaml") == "a%1Bb%FF.yaml"
    lines: list[str] = []
    with github.relay(lines.append, {"GITHUB_ACTIONS": "true"}) as log:
        log("::error::remote\x1b[2J")
    assert lines[1] == "::error::remote\\x1b[2J" and isinstance(lines[1], Verbatim)
    assert all(safe_line(line) == line for line in lines)  # the relay's own commands pass the printer


def test_credential_problem_never_quotes_the_value():
    assert credential_problem("abc-DEF_123.~") is None
    for value, kind in (("ab\ncd", "line break"), ("ab cd", "white space"), ("ab\x01", "control"),
                        ("abé", "non-ASCII")):
        problem = credential_problem(value)
        assert problem is not None and kind in problem and value not in problem


# ----------------------------------------------------------------- untrusted text through the CLI


def test_config_value_cannot_forge_a_workflow_command(tmp_path: Path):
    root = project_with(tmp_path, {}, {"stepB": 'stepB\n  - "prep\\n::error::INJ,1:2"'})  # an extra entry
    summary = tmp_path / "summary.md"
    lint = cli(["lint", str(root)], env=clean_env(GITHUB_STEP_SUMMARY=str(summary)))
    assert lint.returncode == 1
    assert_inert(lint)
    assert "Pipeline step directory not found: prep\\n::error::INJ,1:2" in lint.stdout
    assert not RAW_CONTROL.search(summary.read_text()) and "prep<br>" in summary.read_text()
    upload = cli(["upload", "--dry-run", "--backend", "local", str(root)])
    assert upload.returncode == 2 and "nothing was uploaded" in upload.stderr
    assert_inert(upload)
    assert "prep\\n::error::INJ,1:2" in upload.stdout
    annotations = cli(["lint", "--format", "github", str(root)])
    assert annotations.stdout.splitlines()[0].endswith("prep%0A::error::INJ,1:2")
    assert len(annotations.stdout.splitlines()) == 2  # the annotation and the totals
    sarif = json.loads(cli(["lint", "--format", "sarif", str(root)]).stdout)
    assert sarif["runs"][0]["results"][0]["message"]["text"].endswith("prep\n::error::INJ,1:2")


def test_hostile_folder_and_file_names_stay_on_their_line(tmp_path: Path):
    root = project_with(tmp_path, {"stepA": ESC_ID, "stepB": CR_ID},
                        {"stepA": '"stepA\\e[31mRED\\e]0;pwned\\a"', "stepB": '"stepB\\r::error::OVERWRITE"'})
    (root / ESC_ID / "1" / "\x1b]8;;evil\x07link.py").write_text("x = 1\n")
    (root / CR_ID / "1" / "::warning::f\r##[add-mask]x.txt").write_text("x\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    dry = cli(["upload", "--dry-run", "--backend", "clarifai", "."], cwd=root)  # a remote plan diffs lockfiles
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert_inert(dry)
    assert "--- a/stepA\\x1b[31mRED\\x1b]0;pwned\\x07/config-lock.yaml" in dry.stdout
    assert "+++ b/stepB\\r::error::OVERWRITE/config-lock.yaml" in dry.stdout
    # a step id with a line break, a renamed folder and a touched file, through `changed`
    step = root / ESC_ID / "config.yaml"
    step.write_text(step.read_text().replace("id: stepA", 'id: "stepA\\n::error::ID"'))
    (root / CR_ID).rename(root / "::error::MOVED\x1b[0m")
    config = root / "config.yaml"
    config.write_text(config.read_text().replace('"stepB\\r::error::OVERWRITE"', '"::error::MOVED\\e[0m"'))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hostile")
    summary = tmp_path / "changed.md"
    changed = cli(["changed", "--base", "HEAD~1", "--explain", "."], cwd=root,
                  env=clean_env(GITHUB_STEP_SUMMARY=str(summary)))
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert_inert(changed)
    assert "stepA\\n::error::ID" in changed.stdout and "(from stepB\\r::error::OVERWRITE)" in changed.stdout
    assert not RAW_CONTROL.search(summary.read_text())
    as_json = cli(["changed", "--base", "HEAD~1", "--format", "json", "."], cwd=root)
    assert_inert(as_json)
    assert {s["step_id"] for s in json.loads(as_json.stdout)["selected"]} >= {"stepA\n::error::ID"}
    # a finding in a folder whose name starts with "::": the report line starts with it when run inside
    extra = root / "::error::MOVED\x1b[0m" / "config.yaml"
    extra.write_text(extra.read_text() + "bogus_key: 1\n")
    lint = cli(["lint", "--no-cache", "."], cwd=root)
    assert_inert(lint)
    assert "\\x3a:error::MOVED\\x1b[0m/config.yaml:" in lint.stdout


# ----------------------------------------------------------------- remote statuses and logs


@pytest.fixture(scope="module")
def clarifai():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def clarifai_env(emu: ClarifaiEmulator, tmp: Path, pat: str = PAT, **extra: str) -> dict[str, str]:
    return clean_env(CLARIFAI_PAT=pat, CLARIFAI_API_BASE=f"http://{emu.address}", RUNNER_TEMP=str(tmp), **extra)


@pytest.fixture(scope="module")
def deployed(clarifai, tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("hostile") / "proj", base_files())
    result = cli(["upload", "--backend", "clarifai", str(root)], env=clarifai_env(clarifai, root.parent))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


HOSTILE_LOGS = ["::add-mask::remote", "\x1b[2J##[stop-commands]x", "line\r::error::forged", "ok"]


def test_remote_logs_are_neutralised_outside_actions_and_relayed_inside(clarifai, deployed, tmp_path):
    args = ["run", str(deployed), "--backend", "clarifai", *FAST, "--compute-cluster-id", "c", "--nodepool-id", "n"]
    clarifai.script_run([(RUNNING, 1), (COMPLETED, 1)], logs={RUNNING: HOSTILE_LOGS})
    local = cli(args, env=clarifai_env(clarifai, tmp_path))
    assert local.returncode == 0, local.stdout + local.stderr
    assert_inert(local)
    assert "\\x3a:add-mask::remote" in local.stdout and "line\\r::error::forged" in local.stdout
    clarifai.script_run([(RUNNING, 1), (COMPLETED, 1)], logs={RUNNING: HOSTILE_LOGS})
    summary = tmp_path / "summary.md"
    actions = cli(args, env=clarifai_env(clarifai, tmp_path, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary)))
    assert actions.returncode == 0, actions.stdout + actions.stderr
    assert not RAW_CONTROL.search(actions.stdout + actions.stderr)
    lines = actions.stdout.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::pipeline-ci-"))
    resume = lines.index(f"::{lines[stop].split('::')[2]}::")
    outside = lines[:stop] + lines[resume + 1:]
    assert [line for line in commands_in("\n".join(outside)) if not line.startswith("::add-mask::")] == []
    inside = lines[stop + 1:resume]
    assert "::add-mask::remote" in inside and "\\x1b[2J##[stop-commands]x" in inside  # shown as is, inert
    assert not RAW_CONTROL.search(summary.read_text())


def test_pai_statuses_node_names_and_logs_are_escaped(tmp_path):
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emu:
        emu.script_run([("Running\n::error::STATUS", 1), ("Succeeded", 1)],
                       node_logs={"\x1b[2Jtrain\r::warning::node": HOSTILE_LOGS})
        result = cli(["run", "--backend", "pai", "--endpoint", emu.endpoint, "--pipeline-id", "pl-1",
                      "--workspace-id", "ws-1", *FAST],
                     env=clean_env(ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
                                   ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN, RUNNER_TEMP=str(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert_inert(result)
    assert "Running\\n::error::STATUS" in result.stdout
    assert "[\\x1b[2Jtrain\\r::warning::node] line\\r::error::forged" in result.stdout


# ----------------------------------------------------------------- malformed credentials


@pytest.mark.parametrize("command", ["upload", "run"])
def test_pat_with_a_line_break_is_refused_before_any_call(clarifai, deployed, tmp_path, command):
    pat = "pat-first-half\npat-second-half"
    args = (["upload", "--backend", "clarifai", str(deployed)] if command == "upload" else
            ["run", str(deployed), "--backend", "clarifai", *FAST])
    before = len(clarifai.calls)
    start = time.monotonic()
    result = cli(args, env=clarifai_env(clarifai, tmp_path, pat=pat))
    assert result.returncode == 2, result.stdout + result.stderr
    assert time.monotonic() - start < 10  # no retries (they took ~12 s)
    assert len(clarifai.calls) == before
    output = assert_inert(result)
    assert "CLARIFAI_PAT contains a line break" in output
    assert "pat-first-half" not in output and "pat-second-half" not in output


@pytest.mark.parametrize(("name", "value"), [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-key\nid"),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "pai-secret-first pai-secret-second"),
    ("ALIBABA_CLOUD_SECURITY_TOKEN", "sts-tökén-value"),
])
def test_malformed_pai_keys_are_refused_before_any_request(tmp_path, name, value):
    env = clean_env(ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
                    ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN, RUNNER_TEMP=str(tmp_path))
    env[name] = value
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emu:
        result = cli(["run", "--backend", "pai", "--endpoint", emu.endpoint, "--pipeline-id", "pl-1",
                      "--workspace-id", "ws-1", *FAST], env=env)
        assert emu.requests_seen == []
    assert result.returncode == 2, result.stdout + result.stderr
    output = assert_inert(result)
    assert f"{name} contains" in output
    assert not any(part in output for part in value.split())


# ----------------------------------------------------------------- deep overrides


def test_deeply_nested_overrides_get_lints_f01_message(tmp_path: Path):
    root = write_files(tmp_path / "proj", base_files())
    deep = root / "overrides.json"
    deep.write_text("[" * 100_000)
    lint = cli(["lint", "--no-cache", "."], cwd=root)
    f01 = next(line for line in lint.stdout.splitlines() if "[F01]" in line)
    start = time.monotonic()
    run = cli(["run", "--overrides-file", "overrides.json"], cwd=root)
    assert run.returncode == 2 and time.monotonic() - start < 10
    assert_inert(run)
    assert run.stderr.strip() == "pipeline-ci: error: " + f01.replace(" error [F01]", "")
    assert run.stderr.startswith("pipeline-ci: error: overrides.json:1:1001: ") and "nesting depth" in run.stderr


def test_source_excerpt_never_follows_a_link_out_of_the_project(tmp_path):
    """A config.yaml that is a symlink to a file outside the project is reported, and its target never printed."""
    import os
    import subprocess
    import sys

    secret = tmp_path / "secrets.env"
    secret.write_text("CLARIFAI_PAT=excerpt-secret-value\n")
    project = tmp_path / "proj"
    project.mkdir()
    os.symlink(secret, project / "config.yaml")
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", str(project)], capture_output=True,
                            text=True, timeout=60)
    assert "excerpt-secret-value" not in result.stdout + result.stderr
    from pipeline_ci.report.text_format import excerpt

    assert excerpt({}, str(project / "config.yaml"), 1, 1, None, [project]) == []
    inside = project / "inside.yaml"
    inside.write_text("key: value\n")
    os.symlink(inside, project / "link.yaml")
    assert excerpt({}, str(project / "link.yaml"), 1, 6, None, [project])[0].endswith("key: value")
