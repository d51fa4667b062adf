"""Shared fixtures: temporary projects built from the rule-example base project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.lint import LintResult, lint_paths
from pipeline_ci.testing.projects import base_files, root_config

REPO = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], env: dict[str, str] | None = None, *, cwd: Path | None = None, timeout: float = 300,
            secrets: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The real ``pipeline-ci`` in a subprocess; the test fails if any of ``secrets`` shows in its output."""
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=timeout)
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
    return result


def pty_output(argv: list[str], *, cwd: Path | None, env: dict[str, str]) -> tuple[int, str]:
    """What a user's terminal receives from ``argv`` (stdout and stderr on one pseudo-terminal), and its exit code."""
    import pty
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        assert ready, "the CLI printed nothing for 30 s"
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=30), b"".join(chunks).decode().replace("\r\n", "\n")


def clarifai_env(emulator, tmp: Path, pat: str) -> dict[str, str]:
    """The environment of a CLI run against the Clarifai emulator (no CLARIFAI_*/GITHUB_* of the machine's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    env.update({"CLARIFAI_PAT": pat, "CLARIFAI_API_BASE": f"http://{emulator.address}", "RUNNER_TEMP": str(tmp)})
    return env


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


MUTATION_KINDS = ("delete", "duplicate", "replace", "insert", "indent")


def mutate_lines(text: str, edits: list[tuple[str, int, str]]) -> str:
    """Apply line edits ``(kind, where, snippet)`` to ``text``: the mutation step of the fuzz tests."""
    for kind, where, snippet in edits:
        lines = text.split("\n")
        i = where % max(len(lines), 1)
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "replace":
            j = where % max(len(lines[i]), 1)
            lines[i] = lines[i][:j] + snippet + lines[i][j + len(snippet):]
        elif kind == "insert":
            lines.insert(i, snippet)
        else:
            lines[i] = "  " + lines[i]
        text = "\n".join(lines)
    return text


@pytest.fixture
def make_project(tmp_path: Path):
    """``make_project(spec=None, **files)`` → a project folder; ``files`` keys use ``__`` for ``/``."""

    def make(spec: str | None = None, files: dict[str, str] | None = None) -> Path:
        content = base_files()
        if spec is not None:
            content["config.yaml"] = root_config(spec)
        content.update(files or {})
        return write_files(tmp_path / "proj", content)

    return make


def lint(path: Path, **kwargs) -> LintResult:
    return lint_paths([path], **kwargs)


def rules_of(result: LintResult) -> set[str]:
    return {f.rule for f in result.findings}


@pytest.fixture(autouse=True)
def _dsl_sdk_for_rule_examples(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples of the Python-pipeline rules (D-numbers) compile pipeline files: give them the SDK's venv."""
    if "-dsl-" in request.node.name:
        from .dsl_sdk import sdk_python

        monkeypatch.setenv("PIPELINE_CI_PYTHON", str(sdk_python()))
