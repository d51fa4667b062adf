"""Hostile and broken input: always a finding or an error with a position, never a traceback,
and nothing outside the project is opened (checked with a Python audit hook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_ci.lint import lint_project
from pipeline_ci.project import load_project
from pipeline_ci.rules.base import Options
from pipeline_ci.settings import Settings
from pipeline_ci.testing.projects import BASE_SPEC, base_files, root_config

from .conftest import MUTATION_KINDS, mutate_lines, write_files


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def assert_clean_failure(result: subprocess.CompletedProcess, expect: str, where: str) -> None:
    assert result.returncode in (1, 2), result
    assert "Traceback" not in result.stdout + result.stderr
    assert expect in result.stdout + result.stderr
    assert where in result.stdout + result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "p", base_files())


def test_malformed_yaml(project: Path):
    (project / "stepA" / "config.yaml").write_text("pipeline_step:\n  id: [stepA\n  user_id: u1\n")
    assert_clean_failure(cli("lint", str(project)), "[F01] invalid YAML", "stepA/config.yaml:3:")


def test_duplicate_keys(project: Path):
    text = (project / "config.yaml").read_text().replace("  id: demo\n", "  id: demo\n  id: again\n")
    (project / "config.yaml").write_text(text)
    assert_clean_failure(cli("lint", str(project)), "[F02] duplicate key 'id'", "config.yaml:3:3")


def test_alias_bomb(project: Path):
    lines = ["pipeline:", '  a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    (project / "config.yaml").write_text("\n".join(lines) + "\n")
    assert_clean_failure(cli("lint", str(project)), "alias bomb", "config.yaml:1:1")


def test_fifty_megabyte_config(project: Path):
    with open(project / "config.yaml", "w") as fh:
        fh.write("pipeline:\n  id: demo\n")
        chunk = "# " + "x" * 1022 + "\n"
        for _ in range(50 * 1024):
            fh.write(chunk)
    result = cli("lint", str(project))
    assert_clean_failure(result, "configs larger than", "config.yaml:1:1")


def test_binary_file(project: Path):
    (project / "stepB" / "config.yaml").write_bytes(b"pipeline_step:\n  id: \x00\x01\x02binary\n")
    assert_clean_failure(cli("lint", str(project)), "binary file", "stepB/config.yaml:2:7")


def test_non_utf8_text(project: Path):
    (project / "config.yaml").write_bytes((project / "config.yaml").read_bytes().replace(b"id: demo", b"id: d\xe9mo"))
    assert_clean_failure(cli("lint", str(project)), "not valid UTF-8", "config.yaml:2:8")


def test_step_directories_outside_the_project(project: Path):
    text = (project / "config.yaml").read_text().replace("  - stepB\n", "  - stepB\n  - ../../etc\n")
    (project / "config.yaml").write_text(text)
    result = cli("lint", str(project))
    assert_clean_failure(result, "[X02]", "config.yaml:8:")
    assert "/etc/" not in result.stdout.replace(str(project), "")


def opened_paths(root: Path) -> list[str]:
    """Lint ``root`` in-process and return every path opened or listed while doing so."""
    seen: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str | bytes | os.PathLike):
            seen.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # audit hooks cannot be removed; this one only appends to a list
    project = load_project(root)
    lint_project(project, Options(), Settings())
    result = list(seen)
    seen.clear()  # the hook stays installed (audit hooks cannot be removed) but only fills this list
    return result


def test_symlinks_out_of_the_project_are_never_read(tmp_path: Path):
    outside = write_files(tmp_path / "outside", {"config.yaml": "pipeline_step: {id: secret}\n", "data.txt": "x"})
    project = write_files(tmp_path / "p", base_files())
    os.symlink(outside, project / "escape")
    os.symlink(outside / "data.txt", project / "stepA" / "1" / "data.txt")
    text = (project / "config.yaml").read_text().replace("  - stepB\n", "  - stepB\n  - escape\n")
    (project / "config.yaml").write_text(text)
    (project / "stepA" / "config-lock.yaml").write_text("id: v1\nhash:\n  algo: md5\n  value: 0123\n")
    opened = opened_paths(project)
    assert not [p for p in opened if str(outside) in p or "/outside/" in p]
    result = cli("lint", str(project))
    assert "[X02]" in result.stdout and "escape" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_path_and_bad_settings_are_usage_errors(project: Path, tmp_path: Path):
    result = cli("lint", str(tmp_path / "nope"))
    assert result.returncode == 2 and "no such file or directory" in result.stderr
    (project / ".pipeline-ci.yaml").write_text("disable: [NOPE1]\n")
    result = cli("lint", str(project))
    assert result.returncode == 2 and f"{project / '.pipeline-ci.yaml'}:1:11: unknown rule 'NOPE1'" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("lint", str(empty))
    assert result.returncode == 2 and "no Clarifai pipeline project" in result.stderr


@pytest.mark.parametrize(("text", "where", "message"), [
    ("severity:\n  A09: info\n", "2:8", "severity of A09 must be 'error' or 'warning', not 'info'"),
    ("strict: true\nselect: [A09]\n", "2:1", "unknown setting(s) ['select']"),
    ("severity:\n  NOPE1: error\n", "2:3", "unknown rule 'NOPE1'"),
    ("local:\n  timeout: 5\n  max_nodes: 0\n", "3:14", "local.max-nodes must be a positive integer, not 0"),
    ("local:\n  bogus: 1\n", "2:3", "unknown local setting(s) ['bogus']"),
    ("require_fresh_locks: 'yes'\n", "1:22", "'require-fresh-locks' must be true or false"),
    ("- A09\n", "1:1", "must be a mapping of settings"),
])
def test_a_bad_setting_is_reported_at_its_line_and_column(project: Path, text: str, where: str, message: str):
    """The settings file's errors point at the key or value at fault (the file may spell keys with ``_``)."""
    (project / ".pipeline-ci.yaml").write_text(text)
    result = cli("lint", str(project))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{project / '.pipeline-ci.yaml'}:{where}: {message}" in result.stderr, result.stderr


MUTATIONS = st.sampled_from(MUTATION_KINDS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(MUTATIONS, st.integers(0, 10_000), st.text(alphabet=" -:[]{}\"'|>&*!#%@`,?\n\tabc019{}", max_size=12)),
        min_size=1,
        max_size=4,
    ),
    target=st.sampled_from(["spec", "config.yaml", "stepA/config.yaml"]),
)
def test_linter_never_crashes_on_mutated_configs(tmp_path_factory, edits, target):
    files = base_files()
    text = mutate_lines(BASE_SPEC if target == "spec" else files[target], edits)
    if target == "spec":
        files["config.yaml"] = root_config(text)
    else:
        files[target] = text
    root = write_files(tmp_path_factory.mktemp("fuzz"), files)
    findings = lint_project(load_project(root), Options(), Settings())
    for f in findings:
        assert f.line >= 1 and f.col >= 1 and f.message


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--backend", "local", "--no-wait"], "--no-wait (for clarifai or pai) does not apply to --backend local"),
    (["run", "--backend", "local", "--instance", "g5.xlarge"], "--instance (for clarifai) does not apply"),
    (["run", "--backend", "clarifai", "--parallelism", "2"], "--parallelism (for local) does not apply to --backend"),
    (["run", "--backend", "pai", "--secrets-file", "x", "--run-id", "r"], "--run-id (for clarifai), --secrets-file"),
    (["deploy", "--backend", "local", "--run", "--workspace-id", "w"], "--workspace-id (for pai) does not apply"),
])
def test_run_flags_the_backend_would_ignore_are_errors(project: Path, args: list[str], message: str):
    """Nothing silent: a flag that the chosen backend never reads stops the command before anything starts."""
    path = [str(project)] if args[0] == "run" else []
    result = cli(*args[:1], *([str(project)] if args[0] == "deploy" else path), *args[1:])
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (project / ".pipeline-ci" / "runs").exists()
