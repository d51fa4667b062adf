"""The CLI conventions users know from ruff, actionlint and argo, through the real ``pipeline-ci`` process: ``-q``/``-v``,
colour on a terminal (a real pseudo-terminal) honouring ``NO_COLOR``/``FORCE_COLOR``, completion scripts run in real
shells, per-command help, one error format, ``-o FILE``, every input error at once, the source line and caret under
a finding, ``rules RULE`` and did-you-mean suggestions."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.cli import _parser
from pipeline_ci.commands import NAMES
from pipeline_ci.report.text_format import excerpt
from pipeline_ci.testing.pai_emulator import PaiEmulator

from .conftest import pty_output, run_cli

ESC = "\x1b["
REPO = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM") and not k.startswith(("GITHUB_", "ALIBABA_", "CLARIFAI_"))}
    env["PIPELINE_CI_NO_CACHE"] = "1"  # every run lints
    env.update(extra)
    return env


def cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return run_cli(list(args), clean_env(**env), cwd=cwd, timeout=60)


def in_pty(*args: str, cwd: Path | None = None, **env: str) -> str:
    """The output of the CLI with stdout and stderr on a pseudo-terminal (as a user's shell has them)."""
    code, out = pty_output([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd,
                           env=clean_env(**{"TERM": "xterm-256color", **env}))
    assert code in (0, 1, 2)
    return out


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The base project with a misspelt ``arguments:`` (A04: the failing example of
    :mod:`pipeline_ci.rules.unknown_field`) in its own folder (``make_project`` writes ``proj``)."""
    from pipeline_ci.rules import unknown_field
    from pipeline_ci.rules.examples import examples, materialize

    misspelt = next(example for example in examples(unknown_field) if not example.passing)
    materialize(misspelt, tmp_path / "broken")
    return tmp_path / "broken"


# ----------------------------------------------------------------------------------------------- help


def help_of(command: str) -> str:
    result = cli(command, "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_watch_and_cancel_help_list_only_their_flags():
    run_only = ("--parallelism", "--isolation", "--secrets-file", "--no-wait", "--set", "--overrides-file", "--manifest")
    run_help = help_of("run")
    assert all(flag in run_help for flag in run_only)
    for command in ("watch", "cancel", "pause", "resume"):
        text = help_of(command)
        assert not [flag for flag in run_only if flag in text], command
        assert "--user-id" in text and "--backend" in text
    assert "--timeout" in help_of("watch") and "--timeout" not in help_of("cancel")  # cancel follows nothing
    assert "--state-file" in help_of("cancel") and "--state-file" not in help_of("watch")


def test_help_shows_defaults():
    assert "clarifai, pai (default: clarifai)" in re.sub(r"\s+", " ", help_of("watch"))
    run_help = re.sub(r"\s+", " ", help_of("run"))
    assert "(default: local)" in run_help and "(default: 30.0)" in run_help and "(default: auto)" in run_help
    # every option with a value default says it, in every command
    for name, sub in _commands().items():
        text = re.sub(r"\s+", "", sub.format_help())  # help wraps lines at spaces and hyphens
        for action in sub._actions:
            if action.option_strings and action.default not in (None, False, [], argparse.SUPPRESS) and action.help:
                assert f"default:{action.default}" in text or "default:" in (action.help or ""), \
                    (name, action.option_strings)


def _commands() -> dict:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# ----------------------------------------------------------------------------------------------- errors


def assert_error(result: subprocess.CompletedProcess, message: str, hint: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"pipeline-ci: error: {message}\n  hint: {hint}\n"


def test_argparse_errors_have_the_one_error_format_and_suggestions():
    bad = cli("lnt")
    assert bad.returncode == 2 and "usage:" not in bad.stderr
    assert bad.stderr.startswith("pipeline-ci: error: argument COMMAND: invalid choice: 'lnt'")
    assert bad.stderr.endswith("\n  hint: did you mean `lint`?\n")
    assert_error(cli("run", ".", "--paralelism", "3"), "unrecognized arguments: --paralelism 3",
                 "`--paralelism`: did you mean `--parallelism`?")
    assert_error(cli("watch", "x", "--parallelism", "3"), "unrecognized arguments: --parallelism 3",
                 "`pipeline-ci watch --help` lists its arguments")  # a run-only flag is not watch's
    assert_error(cli("hash"), "the following arguments are required: STEP_DIR",
                 "`pipeline-ci hash --help` lists its arguments")
    assert_error(cli("completion", "bsh"),
                 "argument shell: invalid choice: 'bsh' (choose from 'bash', 'zsh', 'fish')", "did you mean `bash`?")
    assert_error(cli("-q", "lint", "-v"), "-q/--quiet and -v/--verbose contradict each other", "give one of them")


def test_command_errors_have_the_same_format(tmp_path):
    result = cli("run", str(tmp_path / "missing"))
    assert result.returncode == 2 and result.stderr.startswith("pipeline-ci: error: no such file or directory")


def test_typo_suggestions_for_rules(make_project):
    project = make_project()
    assert_error(cli("lint", "--select", "stale-lok,A04", str(project)), "unknown rule(s) in --select: stale-lok",
                 "`stale-lok`: did you mean `stale-lock`?")
    assert_error(cli("rules", "stale-lok"), "no lint rule 'stale-lok'", "did you mean `stale-lock`?")
    assert_error(cli("rules", "nothing-like-it"), "no lint rule 'nothing-like-it'",
                 "`pipeline-ci rules` lists the rule IDs and names")
    (project / ".pipeline-ci.yaml").write_text("disable: [unused-templat]\n")
    result = cli("lint", str(project))
    assert result.returncode == 2 and "unknown rule 'unused-templat'; did you mean 'unused-template'?" in result.stderr


def test_every_input_error_at_once_and_the_step_of_accepted_values(make_project, tmp_path):
    overrides = tmp_path / "o.yaml"
    overrides.write_text("a: null\nb: ok\nc: null\n")
    result = cli("run", str(make_project()), "--overrides-file", str(overrides), "--set", "nope", "--set", "x=1",
                 "--set", "also")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "pipeline-ci: error: 3 problems with the run parameters",
        f"  | {overrides}:1:4: parameter 'a' is null; write '' for an empty string",
        f"  | {overrides}:3:4: parameter 'c' is null; write '' for an empty string",
        "  | invalid --set 'nope', 'also': expected KEY=VALUE",
        "  hint: e.g. --set input_text=hello (quote a value with spaces for the shell)"]
    project = make_project(files={"stepA/config.yaml": _step_a_with_accepted_values()})
    result = cli("run", str(project), "--isolation", "none", "--set", "input_text=bye")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("pipeline-ci: error: value 'bye' of parameter 'input_text' is not in the accepted_values "
                             "of step 'stepA' (input 'input_text'); accepted values: hi, ho\n")


def test_deploy_refuses_run_flags_without_run_and_bad_parameters_before_uploading(make_project):
    project = make_project()
    assert_error(cli("deploy", str(project), "--set", "input_text=x", "--timeout", "5"),
                 "--set, --timeout only apply with --run",
                 "add --run to run the pipeline after deploying, or leave them out")
    bad = cli("deploy", str(project), "--run", "--set", "input_txt=x")
    assert bad.returncode == 2 and bad.stdout == ""  # nothing was uploaded
    assert bad.stderr.startswith("pipeline-ci: error: unknown parameter 'input_txt'")
    assert not (project / ".pipeline-ci" / "store").exists()
    assert cli("deploy", str(project)).returncode == 0 and (project / ".pipeline-ci" / "store").is_dir()  # where


def _step_a_with_accepted_values() -> str:
    from pipeline_ci.testing.projects import base_files

    return base_files()["stepA/config.yaml"].replace(
        "  description: Text to process\n", "  description: Text to process\n  accepted_values: [hi, ho]\n")


# ----------------------------------------------------------------------------------------------- lint output


def test_findings_show_the_source_line_and_a_caret(broken):
    result = cli("lint", "--format", "text", str(broken), cwd=broken)
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "[A04]" in line)
    location = re.match(r"(.*?):(\d+):(\d+): error \[A04\]", lines[at])
    assert location, lines[at]
    number, col = int(location.group(2)), int(location.group(3))
    source = (broken / "config.yaml").read_text().splitlines()[number - 1]
    assert lines[at + 1] == f"  {number} | {source}"
    assert lines[at + 2] == f"  {' ' * len(str(number))} | {' ' * (col - 1)}^"
    assert source[col - 1:].startswith("argument:")
    assert "^" not in cli("lint", "--no-source", str(broken), cwd=broken).stdout
    for fmt in ("json", "github", "sarif"):
        other = cli("lint", "--format", fmt, str(broken), cwd=broken).stdout
        assert source.strip() not in other and "| " not in other.replace("||", ""), fmt


def test_caret_is_placed_under_escaped_and_wide_text(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("key: 日本\x1b[2J\t::x  value\n", encoding="utf-8")
    source, caret = excerpt({}, str(path), 1, 18, None, [tmp_path])
    assert "\x1b" not in source and "\\x1b[2J" in source  # the escape sequence is shown, not sent
    shown = source.split("| ", 1)[1]
    assert shown.index("value") == len("key: ") + 2 + len("\\x1b[2J\t::x  ")
    # 日本 is four columns wide: the caret sits under 'v' in a terminal
    pad = caret.split("| ", 1)[1][:-1]
    assert pad == " " * 5 + " " * 4 + " " * len("\\x1b[2J") + "\t" + " " * 5 and caret.endswith("^")
    path.write_text("::a ##[b] x\n", encoding="utf-8")  # workflow-command look-alikes: inert, caret still exact
    source, caret = excerpt({}, str(path), 1, 11, None, [tmp_path])
    assert source == "  1 | ::a ##\\x5bb] x" and caret == "    | " + " " * source[6:].rindex("x") + "^"
    assert excerpt({}, str(tmp_path / "gone.yaml"), 1, 1, None, [tmp_path]) == []
    (tmp_path / "bin.yaml").write_bytes(b"a: \0\n")
    assert excerpt({}, str(tmp_path / "bin.yaml"), 1, 1, None, [tmp_path]) == []


def test_output_file_gets_the_report_and_stdout_nothing(broken, tmp_path):
    for fmt in ("text", "json", "github", "sarif"):
        out = tmp_path / f"report.{fmt}"
        to_file = cli("lint", "--format", fmt, "-o", str(out), ".", cwd=broken)
        to_stdout = cli("lint", "--format", fmt, ".", cwd=broken)
        assert to_file.returncode == to_stdout.returncode == 1
        assert to_file.stdout == "", fmt
        assert out.read_text() == to_stdout.stdout, fmt
        assert to_file.stderr == f"pipeline-ci: wrote the {fmt} report to {out}: 2 error(s), 0 warning(s) in 1 " \
                                 "project(s)\n"


def test_quiet_lint_prints_only_findings(make_project, broken, tmp_path):
    assert cli("-q", "lint", "--format", "json", "-o", str(tmp_path / "r.json"), ".", cwd=broken).stderr == ""
    clean = make_project()
    assert cli("lint", str(clean)).stdout == "no problems found in 1 project(s)\n"
    assert cli("-q", "lint", str(clean)).stdout == ""
    assert cli("lint", "--quiet", str(clean)).stdout == ""
    quiet = cli("lint", "-q", ".", cwd=broken).stdout
    assert "[A04]" in quiet and "error(s)" not in quiet
    upload = cli("-q", "upload", ".", cwd=broken)  # upload lints first: its findings are results, not progress
    assert upload.returncode == 2 and upload.stderr == "pipeline-ci: error: lint errors: nothing was uploaded\n"
    assert [line.split(" [")[1][:3] for line in upload.stdout.splitlines()] == ["A39", "A04"]


# ----------------------------------------------------------------------------------------------- colour


def test_colour_on_a_terminal_only_and_as_the_environment_says(broken):
    coloured = in_pty("lint", ".", cwd=broken)
    assert f"{ESC}1;31merror{ESC}0m" in coloured and f"{ESC}1;31m^{ESC}0m" in coloured
    assert ESC not in in_pty("lint", ".", cwd=broken, NO_COLOR="1")
    assert ESC not in in_pty("lint", ".", cwd=broken, TERM="dumb")
    assert ESC not in cli("lint", ".", cwd=broken).stdout  # a pipe
    assert f"{ESC}1;31merror" in cli("lint", ".", cwd=broken, FORCE_COLOR="1").stdout
    assert ESC not in cli("lint", ".", cwd=broken, FORCE_COLOR="1", NO_COLOR="1").stdout  # NO_COLOR wins
    error = in_pty("rules", "stale-lok")
    assert f"{ESC}1;31mpipeline-ci: error:{ESC}0m no lint rule" in error and f"{ESC}36m  hint:{ESC}0m" in error
    assert ESC not in in_pty("rules", "stale-lok", NO_COLOR="1")


def test_run_verdict_is_coloured_on_a_terminal(make_project):
    project = make_project()
    output = in_pty("run", str(project), "--isolation", "none")
    assert re.search(rf"^workflow \S+ {re.escape(ESC)}1;32mSucceeded{re.escape(ESC)}0m in ", output, re.M), output
    plain = in_pty("run", str(project), "--isolation", "none", NO_COLOR="1")
    assert ESC not in plain and re.search(r"^workflow \S+ Succeeded in ", plain, re.M)
    quiet = cli("run", "-q", str(project), "--isolation", "none")
    assert quiet.returncode == 0 and re.fullmatch(r"workflow \S+ Succeeded in [\d.]+s\n", quiet.stdout), quiet.stdout


# ----------------------------------------------------------------------------------------------- rules


def test_rules_explains_one_rule_by_id_or_name():
    by_id = cli("rules", "L04")
    assert by_id.returncode == 0 and by_id.stdout == cli("rules", "stale-lock").stdout == cli("rules", "l04").stdout
    text = by_id.stdout
    assert text.startswith("L04 stale-lock (default severity: warning; checks Clarifai pipeline projects)\n")
    assert "``" not in text and ":class:" not in text
    assert "A step lockfile's hash.value matches" in text
    assert "Passing (project):" in text and text.count("Failing (project):") == 2
    assert "      value: 0123456789abcdef0123456789abcdef  # <-- stepA changed" in text
    assert "``" not in cli("rules").stdout  # the list too
    bold = cli("rules", "L04", FORCE_COLOR="1").stdout
    assert f"{ESC}1mhash.value{ESC}0m" in bold
    docs = (REPO / "docs" / "rules.md").read_text()
    section = cli("rules", "L04", "--format", "markdown").stdout
    assert section.startswith("## L04 stale-lock\n") and section in docs


# ----------------------------------------------------------------------------------------------- verbosity


KEY_ID, SECRET = "LTAI-cli-key", "pai-secret-for-the-cli-test-0123"


def test_verbose_shows_request_ids_and_timings_never_secrets_and_quiet_only_the_verdict(tmp_path):
    with PaiEmulator({KEY_ID: SECRET}) as emulator:
        emulator.script_run([("Running", 1), ("Succeeded", 1)], node_logs={"train": ["epoch 1 done"]})
        args = ["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1",
                "--workspace-id", "ws-1", "--max-interval", "0.2"]
        creds = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
                 "RUNNER_TEMP": str(tmp_path)}
        verbose = cli("-v", *args, **creds)
        assert verbose.returncode == 0, verbose.stderr
        debug = [line for line in verbose.stderr.splitlines() if line.startswith("debug: ")]
        assert any(re.fullmatch(r"debug: pai CreatePipelineRun: HTTP 200, request id \S+ \(\d+ ms\)", line)
                   for line in debug), debug
        assert any(line.startswith("debug: pai GetPipelineRun: HTTP 200") for line in debug)
        assert SECRET not in verbose.stdout + verbose.stderr
        emulator.script_run([("Running", 1), ("Succeeded", 1)], node_logs={"train": ["epoch 1 done"]})
        normal = cli(*args, **creds)
        assert "debug:" not in normal.stderr and "[train] epoch 1 done" in normal.stdout
        emulator.script_run([("Running", 1), ("Succeeded", 1)], node_logs={"train": ["epoch 1 done"]})
        quiet = cli("-q", *args, **creds, FORCE_COLOR="1")
        assert quiet.returncode == 0
        lines = quiet.stdout.splitlines()
        assert lines and all(line.startswith("pipeline-ci: ") for line in lines), lines
        assert re.fullmatch(rf"pipeline-ci: run \S+ {re.escape(ESC)}1;32msucceeded{re.escape(ESC)}0m "
                            r"\(status Succeeded, exit 0\)", lines[-1]), lines[-1]  # the verdict in green


# ----------------------------------------------------------------------------------------------- completion


def completion(shell: str) -> str:
    result = cli("completion", shell)
    assert result.returncode == 0, result.stderr
    return result.stdout


BASH_COMPLETE = """
source "$1"
complete -p pipeline-ci
shift
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_pipeline_ci
printf '%s\\n' "${COMPREPLY[@]}"
"""


def bash_complete(script: Path, *words: str) -> list[str]:
    result = subprocess.run(["bash", "--norc", "-c", BASH_COMPLETE, "bash", str(script), "pipeline-ci", *words],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "complete -o default -F _pipeline_ci pipeline-ci"
    return [line for line in lines[1:] if line]


def test_bash_completion_completes_what_the_parser_has(tmp_path):
    script = tmp_path / "pipeline-ci.bash"
    script.write_text(completion("bash"))
    assert bash_complete(script, "li") == ["lint"]
    assert set(NAMES) <= set(bash_complete(script, ""))
    assert bash_complete(script, "run", "--iso") == ["--isolation"]
    assert bash_complete(script, "run", "--isolation", "") == ["auto", "venv", "none"]
    assert bash_complete(script, "watch", "--par") == []  # a run-only flag, as in `watch --help`
    assert bash_complete(script, "lint", "--format", "s") == ["sarif"]
    assert bash_complete(script, "completion", "") == ["bash", "zsh", "fish"]
    assert "clarifai" in bash_complete(script, "upload", "--backend", "")
    assert bash_complete(script, "rules", "stale-") == ["stale-lock"]  # rule names from the registry
    assert bash_complete(script, "lint", "--select", "L0") == ["L02", "L03", "L04", "L05"]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completion(tmp_path):
    script = tmp_path / "pipeline-ci.fish"
    script.write_text(completion("fish"))
    result = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C 'pipeline-ci li'; "
                             "complete -C 'pipeline-ci run --iso'; complete -C 'pipeline-ci lint --format s'"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["lint\tcheck pipeline projects (configs, Argo spec, cross-file references, "
                                          "lockfiles)",
                                          "--isolation\tone virtualenv per requirements set, or the current environment",
                                          "sarif\treport format"]


ZSH_COMPLETE = r"""
# Type "$2" and TAB in an interactive zsh (on a pseudo-terminal, zsh/zpty) whose fpath holds the script in "$1";
# compadd is wrapped to print every candidate zsh's completion system offers as "HIT:<candidate>".
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PROMPT='' ; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd () { builtin compadd -O __hits \"\$@\"; print -rl -- HIT:\${^__hits}; builtin compadd \"\$@\" }"
zpty -w z "bindkey '^I' complete-word"
zpty -w -n z "$2"$'\t'
out=""
for i in {1..400}; do  # until the completion system answers (a candidate is a word after HIT:), at most 20 s
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *HIT:[[:alpha:]]* ]] && break
  sleep 0.05
done
sleep 0.2  # then what follows it
while zpty -r -t z chunk; do out+=$chunk; done
zpty -d z
print -r -- "$out" | tr '\r' '\n' | grep -ao 'HIT:[^$]*' | sort -u
"""


def zsh_complete(folder: Path, line: str) -> list[str]:
    result = subprocess.run(["zsh", "-f", "-c", ZSH_COMPLETE, "zsh", str(folder), line], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    hits = [hit.removeprefix("HIT:").strip() for hit in result.stdout.splitlines()]
    return [hit for hit in hits if hit]  # the echo of the compadd wrapper's own definition is "HIT:" alone


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_completion_in_an_interactive_zsh(tmp_path):
    (tmp_path / "_pipeline-ci").write_text(completion("zsh"))
    check = subprocess.run(["zsh", "-n", str(tmp_path / "_pipeline-ci")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert zsh_complete(tmp_path, "pipeline-ci li") == ["lint"]
    assert zsh_complete(tmp_path, "pipeline-ci run --isolation ") == ["auto", "none", "venv"]


PAT = "pat-cli-conventions-secret-value"


def test_verbose_upload_to_clarifai_shows_each_request(make_project):
    from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator

    project = make_project()
    with ClarifaiEmulator({PAT}, build_polls=1) as emulator:
        result = cli("upload", "--backend", "clarifai", "-v", str(project), CLARIFAI_PAT=PAT,
                     CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert PAT not in result.stdout + result.stderr
    debug = [line for line in result.stderr.splitlines() if line.startswith("debug: clarifai ")]
    assert debug and all(re.fullmatch(r"debug: clarifai \w+: (status \d+, request id \S+ )?\(\d+ ms\)", line)
                         for line in debug), debug
    methods = {line.split()[2].rstrip(":") for line in debug}
    assert len(methods) >= 2, methods  # unary and streaming calls alike
