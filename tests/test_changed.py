"""`pipeline-ci changed` on real git repositories: what a PR touched, renames, deletions, the lockfile
baseline, JSON and GitHub outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.rules.examples import STEP_TEMPLATE, base_files, root_config

from .conftest import write_files

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                          text=True).stdout.strip()


def changed(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run([sys.executable, "-m", "pipeline_ci", "changed", *args], cwd=cwd, capture_output=True,
                          text=True, env={**base_env, **(env or {})}, timeout=120)


def five_step_files() -> dict[str, str]:
    files = base_files()
    names = [f"step{c}" for c in "ABCDE"]
    spec = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n"
    spec += "    steps:\n" + "".join(
        f"    - - name: s-{n.lower()}\n        templateRef:\n          name: users/u1/apps/a1/pipeline_steps/{n}\n"
        f"          template: users/u1/apps/a1/pipeline_steps/{n}\n        arguments:\n          parameters:\n"
        f"          - name: input_text\n            value: hi\n" for n in names)
    files["config.yaml"] = root_config(spec).replace("  - stepA\n  - stepB\n", "".join(f"  - {n}\n" for n in names))
    for n in names:
        files[f"{n}/config.yaml"] = STEP_TEMPLATE.format(step=n)
        files[f"{n}/requirements.txt"] = files["stepA/requirements.txt"]
        files[f"{n}/1/pipeline_step.py"] = files["stepA/1/pipeline_step.py"]
    return files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_files(root / "pipelines" / "p", five_step_files())
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    assert subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", "pipelines/p"], cwd=root,
                          capture_output=True).returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "deployed: lockfiles")
    return root


def data(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def selected(result) -> list[tuple[str, str]]:
    return [(s["step_id"], s["reason"]) for s in data(result)["selected"]]


def test_a_pr_touching_one_step_of_five_reports_exactly_that_step(repo: Path, tmp_path: Path):
    git(repo, "checkout", "-qb", "feature")
    script = repo / "pipelines" / "p" / "stepC" / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + "# tweak\n")
    git(repo, "commit", "-qam", "tweak C")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"ref": "main", "sha": git(repo, "rev-parse", "main")}}}))
    out = tmp_path / "out.txt"
    result = changed(repo, "--format", "json", env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH":
                                                    str(event), "GITHUB_OUTPUT": str(out)})
    assert selected(result) == [("stepC", "content")]
    report = data(result)
    assert report["base"] == git(repo, "rev-parse", "main") and "pull_request" in report["range"]
    step_c = next(s for s in report["projects"][0]["steps"] if s["step_id"] == "stepC")
    assert step_c["touched"] and step_c["needs_upload"]
    outputs = out.read_text().splitlines()
    assert "changed=true" in outputs
    matrix = json.loads(next(line for line in outputs if line.startswith("matrix="))[len("matrix="):])
    assert [m["step_id"] for m in matrix["include"]] == ["stepC"]
    assert json.loads(next(line for line in outputs if line.startswith("steps="))[6:])[0]["path"] == "stepC"


def test_git_only_and_lock_only_baselines(repo: Path):
    git(repo, "checkout", "-qb", "feature")
    (repo / "pipelines" / "p" / "stepB" / "README.md").write_text("notes\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "docs for B")
    both = changed(repo, "--format", "json", "--base", "main")
    assert selected(both) == [("stepB", "content")]
    assert selected(changed(repo, "--format", "json", "--baseline", "lock")) == [("stepB", "content")]
    (repo / "pipelines" / "p" / "stepB" / "README.md").unlink()
    git(repo, "commit", "-qam", "revert")
    assert selected(changed(repo, "--format", "json", "--baseline", "lock")) == []
    assert selected(changed(repo, "--format", "json", "--base", "main", "--baseline", "git")) == []


def test_a_folder_rename_is_renamed_not_delete_plus_new(repo: Path):
    git(repo, "checkout", "-qb", "feature")
    p = repo / "pipelines" / "p"
    git(repo, "mv", "pipelines/p/stepD", "pipelines/p/step-d-renamed")
    config = p / "config.yaml"
    config.write_text(config.read_text().replace("  - stepD\n", "  - step-d-renamed\n"))
    git(repo, "commit", "-qam", "rename D")
    result = changed(repo, "--format", "json", "--base", "main", "--explain")
    steps = {s["step_id"]: s for s in data(result)["projects"][0]["steps"]}
    assert steps["stepD"]["reason"] == "renamed" and steps["stepD"]["old_path"] == "stepD"
    assert not steps["stepD"]["needs_upload"]
    assert not [s for s in steps.values() if s["reason"] in ("new", "deleted")]
    text = changed(repo, "--base", "main", "--explain")
    assert "renamed from stepD" in text.stdout and "content hash matches" in text.stdout


def test_a_deleted_step_is_reported(repo: Path):
    git(repo, "checkout", "-qb", "feature")
    git(repo, "rm", "-rq", "pipelines/p/stepE")
    config = repo / "pipelines" / "p" / "config.yaml"
    config.write_text(config.read_text().replace("  - stepE\n", ""))
    git(repo, "commit", "-qam", "drop E")
    result = data(changed(repo, "--format", "json", "--base", "main"))
    assert ("stepE", "deleted") in [(s["step_id"], s["reason"]) for s in result["selected"]]


def test_force_push_and_new_branch_resolve_the_merge_base(repo: Path, tmp_path: Path):
    git(repo, "checkout", "-qb", "feature")
    script = repo / "pipelines" / "p" / "stepA" / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + "# A\n")
    git(repo, "commit", "-qam", "A")
    event = tmp_path / "push.json"
    for before in ("0" * 40, "1234567890abcdef1234567890abcdef12345678"):
        event.write_text(json.dumps({"before": before, "ref": "refs/heads/feature",
                                     "repository": {"default_branch": "main"}}))
        result = data(changed(repo, "--format", "json", env={"GITHUB_EVENT_NAME": "push",
                                                              "GITHUB_EVENT_PATH": str(event)}))
        assert result["base"] == git(repo, "merge-base", "HEAD", "main")
        assert [s["step_id"] for s in result["selected"]] == ["stepA"]


def test_shallow_clone_is_deepened(repo: Path, tmp_path: Path):
    git(repo, "checkout", "-qb", "feature")
    (repo / "pipelines" / "p" / "stepA" / "1" / "extra.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "extra")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone))
    event = tmp_path / "pr.json"
    event.write_text(json.dumps({"pull_request": {"base": {"ref": "main", "sha": git(repo, "rev-parse", "main")}}}))
    result = data(changed(clone, "--format", "json", env={"GITHUB_EVENT_NAME": "pull_request",
                                                           "GITHUB_EVENT_PATH": str(event)}))
    assert [s["step_id"] for s in result["selected"]] == ["stepA"]
    assert result["base"] == git(repo, "rev-parse", "main")


def test_lockfile_baseline_needs_no_git(tmp_path: Path):
    root = write_files(tmp_path / "plain", base_files())
    result = data(changed(root, "--format", "json", "--baseline", "lock"))
    assert sorted(selected_step for selected_step, _ in
                  [(s["step_id"], s["reason"]) for s in result["selected"]]) == ["stepA", "stepB"]
    assert all(s["reason"] == "new" for s in result["selected"])
    assert changed(root, "--baseline", "git").returncode == 2
