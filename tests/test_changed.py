"""`pipeline-ci changed` on real git repositories: what a PR touched, renames, deletions, the lockfile
baseline, JSON and GitHub outputs."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.deploy import apply, make_plan
from pipeline_ci.platforms.local.store import LocalBackend
from pipeline_ci.project import load_project
from pipeline_ci.testing.projects import STEP_TEMPLATE, base_files, root_config

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
    # pin the steps the way a remote upload does (the deploy engine writing lockfiles; a local upload writes none)
    project = load_project(root / "pipelines" / "p")
    apply(make_plan(project, tracked_only=True), LocalBackend(project.root), lambda _line: None)
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


# -- one git layer ---------------------------------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline_ci"
GIT_LAYER = "changes/git.py"
SPAWN = {"subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"},
         "os": {"system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe",
                "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe",
                "posix_spawn", "posix_spawnp"},
         "asyncio": {"create_subprocess_exec", "create_subprocess_shell"}, "pty": {"spawn"}}


def imports_gitpython(tree: ast.AST) -> list[int]:
    """Lines importing GitPython (the top-level package ``git``; ``from . import git`` is not it)."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "git" for a in node.names)
            or isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "git"]


def git_calls(source: str) -> list[int]:
    """Lines of ``source`` that run git: an argv (list/tuple) or a spawn call whose program is ``git`` (a literal
    or a module constant holding it), or an import of GitPython."""
    tree = ast.parse(source)
    consts = {target.id: node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
              and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
              for target in node.targets if isinstance(target, ast.Name)}
    spawners = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module in SPAWN for alias in node.names if alias.name in SPAWN[node.module]}

    def is_git(node: ast.AST) -> bool:
        node = node.value if isinstance(node, ast.Starred) else node
        if isinstance(node, (ast.List, ast.Tuple)):
            return bool(node.elts) and is_git(node.elts[0])
        value = consts.get(node.id) if isinstance(node, ast.Name) else getattr(node, "value", None)
        return isinstance(value, str) and (value.split(" ")[0] == "git" or value.endswith("/git"))

    def spawns(func: ast.AST) -> bool:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.attr in SPAWN.get(func.value.id, set())
        return isinstance(func, ast.Name) and func.id in spawners

    lines = set(imports_gitpython(tree))
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and is_git(node.elts[0]) or \
                isinstance(node, ast.Call) and spawns(node.func) and node.args and is_git(node.args[0]):
            lines.add(node.lineno)
    return sorted(lines)


def test_the_scanner_sees_every_way_of_running_git():
    assert git_calls("import subprocess\nsubprocess.run(['git', 'status'])\n") == [2]
    assert git_calls("from subprocess import check_output as co\nco('git log', shell=True)\n") == [2]
    assert git_calls("import os\nGIT = '/usr/bin/git'\nargv = (GIT, 'fetch')\nos.execvp(GIT, argv)\n") == [3, 4]
    assert git_calls("import git\nfrom git import Repo\n") == [1, 2]
    assert git_calls("from . import git\nimport github\nx = {'git': 1, 'lock': 2}\nchoices = ('lock', 'git')\n") == []


def test_only_the_git_layer_runs_git():
    """Every git call of pipeline_ci goes through pipeline_ci/changes/git.py, and nothing imports GitPython."""
    found = {path.relative_to(PACKAGE).as_posix(): lines for path in sorted(PACKAGE.rglob("*.py"))
             if (lines := git_calls(path.read_text(encoding="utf-8")))}
    assert set(found) == {GIT_LAYER}, found  # the layer itself is found: the scan works
    tests = {path.name for path in Path(__file__).parent.rglob("*.py")
             if imports_gitpython(ast.parse(path.read_text(encoding="utf-8")))}
    assert tests == set(), f"tests must drive the real git binary, not GitPython: {tests}"


def test_git_failures_are_clean_messages_with_exit_2(repo: Path, tmp_path: Path):
    result = changed(repo, "--base", "nope")
    assert result.returncode == 2 and "unknown base revision 'nope'" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    event = tmp_path / "push.json"  # an option disguised as a commit never reaches git (shallow: it would fetch it)
    event.write_text(json.dumps({"before": "--upload-pack=touch pwned", "ref": "refs/heads/feature"}))
    git(repo, "checkout", "-qb", "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone))
    result = changed(clone, env={"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
    assert result.returncode == 2 and "refusing to pass '--upload-pack=touch pwned'" in result.stderr
    assert not (clone / "pwned").exists() and "Traceback" not in result.stderr
    empty = tmp_path / "no-git-on-path"
    empty.mkdir()
    result = changed(repo, "--base", "main", env={"PATH": str(empty)})
    assert result.returncode == 2 and "git is not installed or not on PATH" in result.stderr, result.stdout


def test_git_variables_of_a_hook_in_another_repository_do_not_redirect_git(repo: Path, tmp_path: Path):
    """git exports GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE to hooks; our git calls follow their cwd instead."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "x.txt").write_text("x\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "other")
    git(repo, "checkout", "-qb", "feature")
    (repo / "pipelines" / "p" / "stepB" / "README.md").write_text("notes\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "docs for B")
    hostile = {"GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other), "GIT_INDEX_FILE": str(other / ".git/index")}
    plain, hooked = (data(changed(repo, "--format", "json", "--base", "main", env=e)) for e in ({}, hostile))
    assert [(s["step_id"], s["reason"]) for s in hooked["selected"]] == [("stepB", "content")]
    assert hooked == plain and hooked["base"] == git(repo, "rev-parse", "main")


# -- no event, no --base: the lockfiles are the baseline ----------------------------------------------------------


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_no_event_and_no_base_with_fresh_lockfiles_changes_nothing(repo: Path, tmp_path: Path):
    git(repo, "branch", "-m", "main", "dev")  # no origin/HEAD, main or master: git has no baseline
    out = tmp_path / "out.txt"
    result = data(changed(repo, "--format", "json", env={"GITHUB_OUTPUT": str(out)}))
    assert result["changed"] is False and result["selected"] == [] and result["baseline"] == "lock"
    assert "lockfiles are the baseline" in result["range"]
    assert result["projects"] == [] and result["unchanged"] == ["pipelines/p"], result  # nothing to say: named only
    every = data(changed(repo, "--format", "json", "--all"))
    assert not any(s["touched"] for s in every["projects"][0]["steps"]) and every["unchanged"] == []
    got = outputs(out)
    assert got["changed"] == "false" and json.loads(got["matrix"]) == {"include": []} and json.loads(got["steps"]) == []
    text = changed(repo)
    assert "1 project(s) unchanged: nothing to upload" in text.stdout and " * " not in text.stdout, text.stdout
    text = changed(repo, "--all")
    assert "0 step(s) to upload" in text.stdout and " * " not in text.stdout, text.stdout


def test_no_event_and_no_base_selects_exactly_the_stale_step(repo: Path, tmp_path: Path):
    git(repo, "branch", "-m", "main", "dev")
    script = repo / "pipelines" / "p" / "stepC" / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + "# tweak\n")
    git(repo, "commit", "-qam", "tweak C")
    out = tmp_path / "out.txt"
    result = data(changed(repo, "--format", "json", env={"GITHUB_OUTPUT": str(out)}))
    assert result["changed"] is True and [(s["step_id"], s["reason"]) for s in result["selected"]] == [
        ("stepC", "content")]
    assert [m["step_id"] for m in json.loads(outputs(out)["matrix"])["include"]] == ["stepC"]


def test_a_step_touched_without_a_new_hash_is_not_selected(repo: Path):
    """A branch that only commits a refreshed lockfile touches the folder, but the step has nothing to upload."""
    git(repo, "checkout", "-qb", "feature")
    lock = repo / "pipelines" / "p" / "stepB" / "config-lock.yaml"
    lock.write_text(lock.read_text() + "# refreshed\n")
    git(repo, "commit", "-qam", "touch B's lockfile")
    result = data(changed(repo, "--format", "json"))
    step_b = next(s for s in result["projects"][0]["steps"] if s["step_id"] == "stepB")
    assert step_b["touched"] and step_b["reason"] == "unchanged" and not step_b["selected"]
    assert result["selected"] == [] and result["changed"] is False


def test_a_repository_without_a_commit_is_a_clear_usage_error(tmp_path: Path):
    root = write_files(tmp_path / "fresh", base_files())
    git(root, "init", "-q", "-b", "main")
    result = changed(root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pipeline-ci: error:" in result.stderr and "has no commits yet" in result.stderr
    assert "git commit" in result.stderr and "--baseline lock" in result.stderr
    assert "unknown head revision" not in result.stderr and "Traceback" not in result.stderr


def test_a_head_other_than_the_checked_out_commit_is_refused_not_mixed_with_the_work_tree(repo: Path):
    """``changed`` hashes the work tree (what ``upload`` sends): a range ending at another commit would be compared
    with files it does not describe. Before, on main with ``--head feature``, stepC read as touched yet unchanged."""
    git(repo, "checkout", "-qb", "feature")
    script = repo / "pipelines" / "p" / "stepC" / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + "# tweak\n")
    git(repo, "commit", "-qam", "tweak C")
    assert selected(changed(repo, "--base", "main", "--head", "feature", "--format", "json")) == [("stepC", "content")]
    git(repo, "checkout", "-q", "main")
    result = changed(repo, "--base", "main", "--head", "feature", "--format", "json")
    feature, main = git(repo, "rev-parse", "feature"), git(repo, "rev-parse", "main")
    assert result.returncode == 2 and result.stdout == "", result.stdout
    assert (f"--head feature is commit {feature[:12]}, but the work tree of {repo} is at commit {main[:12]}"
            in result.stderr), result.stderr
    assert "hint: check out feature first (git checkout feature), or leave out --head" in result.stderr
    assert "Traceback" not in result.stderr
    # the checked-out commit, however it is spelled, is accepted
    assert selected(changed(repo, "--base", "main~1", "--head", main, "--format", "json")) == []


def test_with_the_git_baseline_the_header_says_both_what_upload_sends_and_what_is_selected(repo: Path):
    """stepA is stale on main (not released yet); the branch touches stepC. ``upload`` would send both, the git
    baseline selects stepC only: the header says both numbers, not "2 to upload" beside a single star."""
    step_a = repo / "pipelines" / "p" / "stepA" / "1" / "pipeline_step.py"
    step_a.write_text(step_a.read_text() + "# not released yet\n")
    git(repo, "commit", "-qam", "A on main")
    git(repo, "checkout", "-qb", "feature")
    step_c = repo / "pipelines" / "p" / "stepC" / "1" / "pipeline_step.py"
    step_c.write_text(step_c.read_text() + "# tweak\n")
    git(repo, "commit", "-qam", "tweak C")
    result = changed(repo, "--base", "main", "--baseline", "git")
    assert result.returncode == 0, result.stderr
    assert "2 step(s) to upload (1 selected by baseline 'git');" in result.stdout, result.stdout
    assert selected(changed(repo, "--base", "main", "--baseline", "git", "--format", "json")) == [("stepC", "content")]
    both = changed(repo, "--base", "main")
    assert "2 step(s) to upload;" in both.stdout, both.stdout  # the same two are selected: one number
