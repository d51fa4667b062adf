"""One error spine: expected failures are ``PipelineCIError`` s with their exit code, printed as one
``pipeline-ci: error:`` line; anything else is an internal error (exit 70) that cancels the remote runs this process
started and writes its traceback to a crash file without secrets."""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import os
import pkgutil
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline_ci
from pipeline_ci import cli, commands, findings
from pipeline_ci.errors import PipelineCIError, PlatformError, UsageError
from pipeline_ci.exitcodes import ExitCode
from pipeline_ci.platforms import names
from pipeline_ci.runs import active
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import REPO, write_files

PAT = "pat-errors-tests-secret-value"
SECRET = "pai-errors-tests-secret-value"
RUNNING, CANCELLED = 64001, 64004

INTERNAL_ONLY = {
    "pipeline_ci.hashing._Escape": "control flow inside the hashing walk (a symlink leads out of the step folder)",
    "pipeline_ci.hashing._NotRegular": "control flow inside the hashing walk (not a regular file)",
    "pipeline_ci.overrides._DuplicateKey": "control flow of the overrides JSON loader (becomes an OverridesError)",
    "pipeline_ci.lint_cache.Racy": "control flow of the lint cache (a file too recent to trust: no caching)",
    "pipeline_ci.testing.pai_emulator.ApiFailure": "the PAI emulator's way to answer an HTTP error (tests only)",
    "pipeline_ci.argo.expr._Fail": "control flow of the expression evaluator (becomes an ExpressionError with a column)",
    "pipeline_ci.argo.expr._ChainNil": "control flow of the expression evaluator (``a?.b`` met nil)",
}
"""Exception classes that never reach the user, each with the reason; every other one is a PipelineCIError."""


def crash_line(stderr: str) -> re.Match[str]:
    match = re.search(r"^pipeline-ci: internal error: (\w+): (.*) \(traceback in (.+); please report it\)$", stderr,
                      re.M)
    assert match, stderr
    return match


# ------------------------------------------------------------------------------------------- usage errors


def test_run_local_outside_a_project_is_a_usage_error(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PIPELINE_CI_"))}
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "run", "--backend", "local"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("pipeline-ci: error: no pipeline project (config.yaml with 'pipeline:') in or "
                                    "above the current directory\n"), result.stderr
    assert "  hint: give the project folder" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / ".pipeline-ci").exists()  # nothing was started, no crash report


@pytest.mark.parametrize("name", ["PIPELINE_CI_BUILD_TIMEOUT", "PIPELINE_CI_BUILD_POLL"])
@pytest.mark.parametrize("value", ["abc", "-5", "nan", "inf"])
def test_a_malformed_build_timeout_is_a_usage_error_before_any_request(tmp_path: Path, value: str, name: str):
    project = write_files(tmp_path / "p", base_files())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PIPELINE_CI_", "CLARIFAI_"))}
    env.update({"CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": "http://127.0.0.1:9", name: value})
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", str(project), "--backend", "clarifai"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"pipeline-ci: error: {name} must be a positive number of seconds, not '{value}'" in result.stderr
    assert PAT not in result.stdout + result.stderr and "internal error" not in result.stderr


def test_one_usage_error_class_and_exit_codes_by_family():
    assert findings.UsageError is UsageError
    from pipeline_ci.archive import ArchiveError
    from pipeline_ci.platforms.base import DeployError
    from pipeline_ci.platforms.clarifai.api import ApiError
    from pipeline_ci.platforms.pai.client import PaiError
    from pipeline_ci.runs.follow import FatalError
    from pipeline_ci.runs.session import RemoteStartError

    assert ApiError("bad id", "config").exit_code == ExitCode.USAGE and ApiError("down").exit_code == ExitCode.API
    assert PaiError("bad", "config").exit_code == ExitCode.USAGE and PaiError("auth", "auth").exit_code == ExitCode.API
    assert DeployError("x").exit_code == ExitCode.API and ArchiveError("loop").exit_code == ExitCode.USAGE
    assert DeployError("build failed", ExitCode.FAILED, ["log line"]).details == ["log line"]
    assert isinstance(FatalError("gone"), PlatformError)
    assert str(RemoteStartError("refused", ExitCode.USAGE)) == "could not start the run: refused"


def _package_modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages(pipeline_ci.__path__, "pipeline_ci.")]
    return sorted(name for name in found if name != "pipeline_ci.__main__")  # importing it runs the CLI


def test_every_exception_class_is_a_pipeline_ci_error_or_listed_as_internal():
    classes = {}
    for name in _package_modules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == name:
                classes[f"{name}.{obj.__qualname__}"] = obj
    assert len(classes) > 25  # the walk found the modules
    stray = sorted(n for n, cls in classes.items() if not issubclass(cls, PipelineCIError) and n not in INTERNAL_ONLY)
    assert stray == [], "derive these from pipeline_ci.errors.PipelineCIError (or list them in INTERNAL_ONLY)"
    assert sorted(set(INTERNAL_ONLY) - set(classes)) == []  # the list is not stale
    assert [n for n in classes if n.rsplit(".", 1)[1] == "UsageError"] == ["pipeline_ci.errors.UsageError"]


def _int_literal(node: ast.AST | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def test_no_exit_code_literals_in_the_command_layer():
    """Exit codes come from ExitCode: no ``return 2``, ``exit_code=3``, ``sys.exit(5)``, ``{...: 4}`` table."""
    package = REPO / "pipeline_ci"
    files = [package / "cli.py", package / "error_handler.py", package / "errors.py", package / "deploy.py",
             *sorted((package / "commands").glob("*.py")), *sorted((package / "runs").glob("*.py"))]
    offences = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            literal = None
            if isinstance(node, ast.Return):
                literal = _int_literal(node.value)
            elif isinstance(node, ast.Call):
                callee = ast.unparse(node.func)
                if callee in ("sys.exit", "os._exit", "exit") and node.args:
                    literal = _int_literal(node.args[0])
                for keyword in node.keywords:
                    if keyword.arg == "exit_code":
                        literal = _int_literal(keyword.value)
            elif isinstance(node, ast.Dict):
                values = [_int_literal(v) for v in node.values]
                literal = max(values) if values and all(v is not None for v in values) and len(values) > 2 else None
            if literal is not None and literal > 1:
                offences.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}")
    assert offences == []


def test_backend_choices_come_from_the_platform_registry():
    parser = cli._parser()
    actions = {name: sub for name, sub in next(a for a in parser._actions if a.dest == "command").choices.items()}
    capability = {"upload": "upload", "deploy": "upload", "run": "run", "watch": "attach", "cancel": "attach"}
    for command, wanted in capability.items():
        backend = next(a for a in actions[command]._actions if a.dest == "backend")
        assert tuple(backend.choices) == names(wanted), command


def test_readme_exit_code_table_lists_every_exit_code():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Runs and the exit-code contract", 1)[1].split("\n## ", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert documented == {int(code) for code in ExitCode}


# ------------------------------------------------------------------------------------------- internal errors


def _explode(message: str):
    def run(options: object, env: object, out: object) -> int:
        raise RuntimeError(message)

    return run


def test_internal_error_exits_70_with_a_crash_file_and_no_secret(tmp_path, monkeypatch, capsys):
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    monkeypatch.setenv("RUNNER_TEMP", str(runner_temp))
    monkeypatch.setenv("CLARIFAI_PAT", PAT)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.delenv("PIPELINE_CI_DEBUG", raising=False)
    monkeypatch.setattr(commands.load("schema"), "run", _explode(f"bug with {PAT} and {SECRET} inside"))
    code = cli.main(["schema", "root-config"])
    captured = capsys.readouterr()
    assert code == ExitCode.INTERNAL == 70
    line = crash_line(captured.err)
    assert line.group(1) == "RuntimeError" and line.group(2) == "bug with *** and *** inside"
    crash = Path(line.group(3))
    assert crash.parent == runner_temp and crash.name.startswith("pipeline-ci-crash-")
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    text = crash.read_text(encoding="utf-8")
    assert "Traceback (most recent call last):" in text and "RuntimeError: bug with *** and *** inside" in text
    assert "command: pipeline-ci schema" in text and 'raise RuntimeError(message)' in text
    assert PAT not in text + captured.err + captured.out and SECRET not in text + captured.err + captured.out


def test_crash_file_falls_back_to_the_project_state_folder_and_debug_reraises(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNNER_TEMP", raising=False)
    monkeypatch.delenv("PIPELINE_CI_DEBUG", raising=False)
    monkeypatch.setattr(commands.load("rules"), "run", _explode("rules broke"))
    assert cli.main(["rules"]) == 70
    crash = Path(crash_line(capsys.readouterr().err).group(3))
    assert crash.parent == tmp_path / ".pipeline-ci" and crash.name.startswith("crash-")
    assert "RuntimeError: rules broke" in crash.read_text(encoding="utf-8")
    assert (tmp_path / ".pipeline-ci" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")  # never committed
    monkeypatch.setenv("PIPELINE_CI_DEBUG", "1")
    with pytest.raises(RuntimeError, match="rules broke"):
        cli.main(["rules"])


def test_ctrl_c_in_a_command_that_starts_no_run_exits_130(monkeypatch):
    def interrupted(options: object, env: object, out: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands.load("schema"), "run", interrupted)
    assert cli.main(["schema", "root-config"]) == ExitCode.INTERRUPTED == 130


# ------------------------------------------------------------------------------------------- active remote runs


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def clarifai_env(monkeypatch: pytest.MonkeyPatch, emulator: ClarifaiEmulator, runner_temp: Path) -> None:
    for name in [k for k in os.environ if k.startswith(("GITHUB_", "CLARIFAI_", "PIPELINE_CI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLARIFAI_PAT", PAT)
    monkeypatch.setenv("CLARIFAI_API_BASE", f"http://{emulator.address}")
    monkeypatch.setenv("RUNNER_TEMP", str(runner_temp))


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory) -> Path:
    """A project uploaded to the emulator (through the CLI)."""
    root = write_files(tmp_path_factory.mktemp("clarifai") / "proj", base_files())
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        clarifai_env(monkeypatch, emulator, root.parent)
        code = cli.main(["upload", "--backend", "clarifai", str(root)])
    assert code == 0, output.getvalue()
    return root


@pytest.fixture
def clarifai(emulator, deployed, tmp_path, monkeypatch):
    """The emulator (its next run keeps running) with the environment pointing at it, and the uploaded project."""
    clarifai_env(monkeypatch, emulator, tmp_path)
    emulator.script_run([(RUNNING, 100_000)])
    return emulator, deployed


RUN = ["--backend", "clarifai", "--max-interval", "0.2", "--compute-cluster-id", "cc1", "--nodepool-id", "np1"]


def cancels(emulator: ClarifaiEmulator, run_id: str) -> int:
    return sum(1 for method, request in emulator.calls if method == "PatchPipelineVersionRuns"
               and any(r.id == run_id for r in request.pipeline_version_runs))


def test_internal_error_while_following_a_clarifai_run_cancels_it(clarifai, monkeypatch, capsys):
    from pipeline_ci.platforms.clarifai.run import ClarifaiRun

    emulator, root = clarifai
    before = set(emulator.runs)
    real_poll = ClarifaiRun.poll
    polls: list[str] = []

    def poll_with_a_bug(self: ClarifaiRun):  # the first poll works, the second hits a bug
        polls.append(self.run_id)
        if len(polls) > 1:
            raise RuntimeError("bug while polling")
        return real_poll(self)

    monkeypatch.setattr(ClarifaiRun, "poll", poll_with_a_bug)
    code = cli.main(["run", str(root), *RUN])
    captured = capsys.readouterr()
    [run_id] = set(emulator.runs) - before
    assert code == 70, captured.out + captured.err
    assert polls == [run_id, run_id]  # started and followed before the bug
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED
    assert cancels(emulator, run_id) == 1  # cancelled once, not once more by the error handler
    assert f"run {run_id}: cancelled" in captured.out
    crash = Path(crash_line(captured.err).group(3))
    assert "RuntimeError: bug while polling" in crash.read_text(encoding="utf-8")
    assert PAT not in crash.read_text(encoding="utf-8") + captured.out + captured.err
    assert active.runs() == []


def test_internal_error_between_start_and_follow_cancels_the_run(clarifai, monkeypatch, capsys):
    from pipeline_ci.commands import run as run_command

    emulator, root = clarifai
    before = set(emulator.runs)

    def broken_save_state(*args: object) -> None:
        raise RuntimeError("bug after the start")

    monkeypatch.setattr(run_command, "save_state", broken_save_state)
    code = cli.main(["run", str(root), *RUN])
    captured = capsys.readouterr()
    [run_id] = set(emulator.runs) - before
    assert code == 70, captured.out + captured.err
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED and cancels(emulator, run_id) == 1
    assert f"pipeline-ci: cancelled run {run_id}" in captured.err
    text = Path(crash_line(captured.err).group(3)).read_text(encoding="utf-8")
    assert f"cancelled runs: {run_id}" in text and "RuntimeError: bug after the start" in text
    assert PAT not in text + captured.out + captured.err
    assert active.runs() == []
