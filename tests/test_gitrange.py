"""``pipeline_ci.changes.gitrange`` and the git layer (``pipeline_ci.changes.git``) against real git repositories:
event-based base resolution, shallow clones, diffs, errors and environment hygiene."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pipeline_ci.changes import FileChange, Git, GitError, Range, RangeError, changed_files, resolve_range
from pipeline_ci.errors import PipelineCIError

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
ZERO = "0" * 40


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, input=stdin, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message: str = "change") -> str:
    """Write (or delete, for None) ``files``, commit everything, return the new sha."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def fast_commits(repo: Path, branch: str, parent: str, count: int, prefix: str) -> str:
    """``count`` commits on ``branch`` from ``parent``, each adding ``<prefix><i>.txt``, via fast-import (fast)."""
    lines = []
    for i in range(count):
        lines += [f"commit refs/heads/{branch}", f"committer Test <test@example.com> {1700000000 + i} +0000",
                  "data 2", "c", *([f"from {parent}"] if i == 0 else []),  # later commits continue the branch
                  f"M 100644 inline {prefix}{i}.txt", "data 2", "x\n"]
    git(repo, "fast-import", "--quiet", stdin="\n".join(lines) + "\n")
    return git(repo, "rev-parse", branch)


def paths(changes: list[FileChange]) -> list[str]:
    return sorted(c.path for c in changes)


def event_env(tmp_path: Path, name: str, payload: dict, **extra: str) -> dict[str, str]:
    path = tmp_path / f"{name}-event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), **extra}


def push_event(before: str, ref: str, default: str = "main") -> dict:
    return {"before": before, "ref": ref, "repository": {"default_branch": default}}


def pr_event(base_ref: str | None, base_sha: str | None = None) -> dict:
    return {"pull_request": {"base": {"ref": base_ref, "sha": base_sha}}, "repository": {"default_branch": "main"}}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, {"README.md": "hello\n"}, "root")
    return root


@pytest.fixture
def forked(repo: Path) -> dict[str, str]:
    """main: root -> fork -> m1 -> m2; feature (checked out): fork -> f1 -> f2."""
    shas = {"fork": commit(repo, {"base.txt": "base\n"})}
    git(repo, "checkout", "-q", "-b", "feature")
    shas["f1"] = commit(repo, {"steps/a/f1.txt": "1\n"})
    shas["f2"] = commit(repo, {"steps/a/f2.txt": "2\n"})
    git(repo, "checkout", "-q", "main")
    shas["m1"] = commit(repo, {"main1.txt": "m\n"})
    shas["m2"] = commit(repo, {"main2.txt": "m\n"})
    git(repo, "checkout", "-q", "feature")
    return shas


def clone(src: Path, dest: Path, *args: str) -> Path:
    git(src.parent, "clone", "-q", *args, f"file://{src}", str(dest))
    return dest


# -- explicit and local ----------------------------------------------------------------------------------------------

def test_explicit_base_and_head_win_over_the_event(repo, forked, tmp_path):
    env = event_env(tmp_path, "pull_request", pr_event("main"))
    rng = resolve_range(repo, base=forked["f1"], head="feature", env=env)
    assert (rng.base, rng.head, rng.fetched) == (forked["f1"], forked["f2"], ())
    assert "explicit" in rng.reason
    assert changed_files(repo, rng) == [FileChange("A", "steps/a/f2.txt")]
    rng = resolve_range(repo, base="main", head=forked["f1"], env={})
    assert rng.base == forked["m2"] and rng.head == forked["f1"]
    with pytest.raises(RangeError, match="unknown base revision 'nope'"):
        resolve_range(repo, base="nope", env={})
    with pytest.raises(RangeError, match="unknown head"):
        resolve_range(repo, base="main", head="nope", env={})


def test_no_github_env_uses_the_merge_base_with_main_or_nothing_on_main(repo, forked):
    rng = resolve_range(repo, env={})
    assert rng.base == forked["fork"] and "merge base" in rng.reason
    git(repo, "checkout", "-q", "main")
    rng = resolve_range(repo, env={})
    assert rng.base is None and rng.head == forked["m2"]
    assert paths(changed_files(repo, rng)) == ["README.md", "base.txt", "main1.txt", "main2.txt"]


# -- GitHub events ---------------------------------------------------------------------------------------------------

def test_pull_request_is_the_merge_base_not_the_tip_of_main(repo, forked, tmp_path):
    work = clone(repo, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    for name in ("pull_request", "pull_request_target"):
        rng = resolve_range(work, env=event_env(tmp_path, name, pr_event("main", forked["m2"])))
        assert rng.base == forked["fork"] != forked["m2"]
        assert rng.reason == f"{name}: merge base of HEAD and origin/main"
        assert paths(changed_files(work, rng)) == ["steps/a/f1.txt", "steps/a/f2.txt"]
    # actions/checkout's default for PRs: HEAD is refs/pull/N/merge, feature merged into main's tip.
    git(work, "checkout", "-q", "--detach", "origin/main")
    git(work, "merge", "-q", "--no-ff", "-m", "Merge feature", "origin/feature")
    rng = resolve_range(work, env=event_env(tmp_path, "pull_request", pr_event("main")))
    assert rng.base == forked["m2"]
    assert paths(changed_files(work, rng)) == ["steps/a/f1.txt", "steps/a/f2.txt"]


def test_pull_request_falls_back_to_the_base_sha(repo, forked, tmp_path):
    rng = resolve_range(repo, env=event_env(tmp_path, "pull_request", pr_event("gone", forked["m1"])), deepen=False)
    assert rng.base == forked["fork"] and forked["m1"] in rng.reason


def test_pr_branch_with_main_merged_in_reports_only_its_own_files(repo, forked, tmp_path):
    git(repo, "merge", "-q", "--no-ff", "-m", "merge main into feature", "main")
    commit(repo, {"steps/b/f3.txt": "3\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, {"main3.txt": "m\n"})  # main moves on after the merge
    git(repo, "checkout", "-q", "feature")
    rng = resolve_range(repo, env=event_env(tmp_path, "pull_request", pr_event("main")))
    assert rng.base == forked["m2"]  # main's merged tip, not the original fork point
    assert paths(changed_files(repo, rng)) == ["steps/a/f1.txt", "steps/a/f2.txt", "steps/b/f3.txt"]


def test_push_with_a_normal_before(repo, forked, tmp_path):
    f3 = commit(repo, {"steps/a/f3.txt": "3\n"})
    rng = resolve_range(repo, env=event_env(tmp_path, "push", push_event(forked["f1"], "refs/heads/feature")))
    assert (rng.base, rng.head) == (forked["f1"], f3) and "event.before" in rng.reason
    assert paths(changed_files(repo, rng)) == ["steps/a/f2.txt", "steps/a/f3.txt"]


def test_first_push_of_a_branch_uses_the_merge_base_with_the_default_branch(repo, forked, tmp_path):
    rng = resolve_range(repo, env=event_env(tmp_path, "push", push_event(ZERO, "refs/heads/feature")))
    assert rng.base == forked["fork"] and "new branch" in rng.reason
    # every commit of the branch, not just the last one (tj-actions/changed-files#387)
    assert paths(changed_files(repo, rng)) == ["steps/a/f1.txt", "steps/a/f2.txt"]


def test_first_push_of_the_default_branch_has_no_base(repo, forked, tmp_path):
    git(repo, "checkout", "-q", "main")
    rng = resolve_range(repo, env=event_env(tmp_path, "push", push_event(ZERO, "refs/heads/main")))
    assert rng.base is None and "first push" in rng.reason
    assert len(changed_files(repo, rng)) == 4


def test_force_push_uses_the_merge_base_not_the_stale_before(repo, forked, tmp_path):
    old_tip = forked["f2"]
    git(repo, "reset", "-q", "--hard", "main")  # rebase the branch onto main's tip and rewrite it
    commit(repo, {"steps/a/g1.txt": "g\n"})
    env = event_env(tmp_path, "push", push_event(old_tip, "refs/heads/feature"))
    rng = resolve_range(repo, env=env)
    assert rng.base == forked["m2"] and "force push" in rng.reason
    assert paths(changed_files(repo, rng)) == ["steps/a/g1.txt"]
    env = event_env(tmp_path, "push", push_event("1" * 40, "refs/heads/feature"))  # before not in the repo
    rng = resolve_range(repo, env=env)
    assert rng.base == forked["m2"] and "missing" in rng.reason


def test_merge_group_uses_base_sha(repo, forked, tmp_path):
    git(repo, "checkout", "-q", "-b", "gh-readonly-queue/main/pr-1", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "queue", "feature")
    env = event_env(tmp_path, "merge_group", {"merge_group": {"base_sha": forked["m2"], "base_ref": "refs/heads/main"}})
    rng = resolve_range(repo, env=env)
    assert rng.base == forked["m2"] and rng.reason == "merge_group: merge_group.base_sha"
    assert paths(changed_files(repo, rng)) == ["steps/a/f1.txt", "steps/a/f2.txt"]


def test_tag_push_diffs_against_the_previous_tag(repo, tmp_path):
    v1 = commit(repo, {"a.txt": "1\n"})
    git(repo, "tag", "-a", "v1", "-m", "v1")
    commit(repo, {"b.txt": "1\n"})
    v2 = commit(repo, {"c.txt": "1\n"})
    git(repo, "tag", "v2")
    git(repo, "tag", "v2-also")  # a second tag on the same commit is not "previous"
    env = event_env(tmp_path, "push", push_event(ZERO, "refs/tags/v2"))
    rng = resolve_range(repo, head="v2", env=env)
    assert (rng.base, rng.head) == (v1, v2) and "previous tag v1" in rng.reason
    assert paths(changed_files(repo, rng)) == ["b.txt", "c.txt"]
    rng = resolve_range(repo, head="v1", env=event_env(tmp_path, "push", push_event(ZERO, "refs/tags/v1")))
    assert rng.base is None and "no previous tag" in rng.reason


def test_dispatch_and_schedule_use_the_default_branch(repo, forked, tmp_path):
    payload = {"ref": "refs/heads/feature", "repository": {"default_branch": "main"}}
    env = event_env(tmp_path, "workflow_dispatch", payload)
    assert resolve_range(repo, env=env).base == forked["fork"]
    git(repo, "checkout", "-q", "main")
    env = event_env(tmp_path, "schedule", {"schedule": "0 0 * * *"}, GITHUB_REF="refs/heads/main")
    rng = resolve_range(repo, env=env)
    assert rng.base is None and "lockfile" in rng.reason


# -- shallow clones --------------------------------------------------------------------------------------------------

@pytest.fixture
def deep_upstream(repo: Path) -> dict[str, str]:
    """main: root -> fork -> m1; feature: fork -> 60 commits (deeper than the first deepening step)."""
    shas = {"fork": commit(repo, {"base.txt": "base\n"})}
    shas["feature"] = fast_commits(repo, "feature", shas["fork"], 60, "steps/a/f")
    shas["m1"] = commit(repo, {"main1.txt": "m\n"})
    return shas


def test_shallow_clone_is_deepened_until_the_merge_base_appears(repo, deep_upstream, tmp_path):
    work = clone(repo, tmp_path / "shallow", "--depth", "1", "--branch", "feature")  # single-branch: no origin/main
    assert git(work, "rev-parse", "--is-shallow-repository") == "true"
    rng = resolve_range(work, env=event_env(tmp_path, "pull_request", pr_event("main")))
    assert rng.base == deep_upstream["fork"] and rng.head == deep_upstream["feature"]
    assert rng.fetched[0].endswith("origin +refs/heads/main:refs/remotes/origin/main")
    assert any("--deepen=50" in f for f in rng.fetched) and any("--deepen=100" in f for f in rng.fetched)
    assert len(changed_files(work, rng)) == 60


def test_shallow_clone_push_fetches_before(repo, deep_upstream, tmp_path):
    work = clone(repo, tmp_path / "shallow", "--depth", "1", "--branch", "feature")
    before = git(repo, "rev-parse", "feature~3")
    rng = resolve_range(work, env=event_env(tmp_path, "push", push_event(before, "refs/heads/feature")))
    assert rng.base == before and rng.fetched and "event.before" in rng.reason
    assert paths(changed_files(work, rng)) == ["steps/a/f57.txt", "steps/a/f58.txt", "steps/a/f59.txt"]


def test_shallow_clone_without_deepening_says_what_to_fetch(repo, deep_upstream, tmp_path):
    env = event_env(tmp_path, "pull_request", pr_event("main"))
    work = clone(repo, tmp_path / "all-branches", "--depth", "1", "--no-single-branch", "--branch", "feature")
    with pytest.raises(RangeError) as info:
        resolve_range(work, env=env, deepen=False)
    assert "the clone is shallow and fetching is disabled" in str(info.value)
    assert str(info.value).endswith(
        "run 'git fetch --deepen=200 origin main' or use actions/checkout with fetch-depth: 0")
    single = clone(repo, tmp_path / "single", "--depth", "1", "--branch", "feature")
    with pytest.raises(RangeError, match="'main' is not in this clone and fetching is disabled") as info:
        resolve_range(single, env=env, deepen=False)
    assert "run 'git fetch --depth=200 origin +refs/heads/main:refs/remotes/origin/main'" in str(info.value)
    git(work, "remote", "remove", "origin")
    with pytest.raises(RangeError, match="there is no 'origin' remote"):
        resolve_range(work, env=env)
    # Following the hint works.
    git(single, "fetch", "--depth=200", "origin", "+refs/heads/main:refs/remotes/origin/main")
    git(single, "fetch", "--deepen=200", "origin", "main")
    rng = resolve_range(single, env=env, deepen=False)
    assert rng.base == deep_upstream["fork"] and rng.fetched == ()


# -- changed_files ---------------------------------------------------------------------------------------------------

def test_renamed_folder_with_small_edits_is_reported_as_renames(repo):
    body = "".join(f"line {i}\n" for i in range(30))
    base = commit(repo, {f"steps/old/{n}.py": f"# {n}\n{body}" for n in ("main", "util", "cfg")})
    git(repo, "mv", "steps/old", "steps/new")
    head = commit(repo, {"steps/new/main.py": f"# main\n{body}edited\n"})
    changes = changed_files(repo, Range(base, head, "test"))
    assert sorted((c.status, c.path, c.old_path) for c in changes) == [
        ("R", f"steps/new/{n}.py", f"steps/old/{n}.py") for n in ("cfg", "main", "util")]
    by_path = {c.path: c for c in changes}
    assert by_path["steps/new/cfg.py"].similarity == 100 and 50 <= by_path["steps/new/main.py"].similarity < 100


def test_odd_paths_symlinks_and_submodules_come_back_raw(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "dir").mkdir()
    (repo / "dir/ünï cödé \"q\".txt").write_text("x\n", encoding="utf-8")
    (repo / "dir/tab\there.txt").write_text("x\n", encoding="utf-8")
    os.symlink("README.md", repo / "link")
    git(repo, "add", "-A")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{base},vendor/sub")  # a submodule (gitlink)
    git(repo, "commit", "-q", "-m", "odd")
    head = git(repo, "rev-parse", "HEAD")
    expected = ["dir/tab\there.txt", "dir/ünï cödé \"q\".txt", "link", "vendor/sub"]
    changes = changed_files(repo, Range(base, head, "test"))
    assert paths(changes) == expected and {c.status for c in changes} == {"A"}
    assert paths(changed_files(repo, Range(None, head, "test"))) == sorted(["README.md", *expected])
    os.remove(repo / "link")
    (repo / "link").write_text("now a file\n", encoding="utf-8")  # type change counts as modified
    git(repo, "rm", "-q", "README.md")
    git(repo, "add", "link")  # not ``add -A``: it would drop the gitlink, which has no checkout
    git(repo, "commit", "-q", "-m", "type change")
    after = git(repo, "rev-parse", "HEAD")
    assert sorted((c.status, c.path) for c in changed_files(repo, Range(head, after, "t"))) == [
        ("D", "README.md"), ("M", "link")]


def test_five_thousand_files_come_back_whole(repo, tmp_path):
    base = git(repo, "rev-parse", "HEAD")
    for i in range(5000):
        folder = repo / "many" / f"d{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:04d}.txt").write_text(f"{i}\n", encoding="utf-8")
    head = commit(repo, {}, "5000 files")
    changes = changed_files(repo, Range(base, head, "test"))
    assert len(changes) == 5000 and {c.status for c in changes} == {"A"}
    assert len(changed_files(repo, Range(None, head, "test"))) == 5001
    env = event_env(tmp_path, "push", push_event(base, "refs/heads/main"))
    assert len(changed_files(repo, resolve_range(repo, env=env))) == 5000


# -- the git layer ---------------------------------------------------------------------------------------------------

def test_git_error_names_the_command_and_what_git_said(repo):
    with pytest.raises(GitError) as info:
        Git(repo).run("rev-parse", "--verify", "nope^{commit}")
    err = info.value
    assert isinstance(err, PipelineCIError) and err.exit_code == 2 and err.returncode == 128
    assert err.command == ("git", "rev-parse", "--verify", "nope^{commit}")
    assert err.stderr.startswith("fatal:") and err.stderr in str(err) and "'git rev-parse --verify" in str(err)
    with pytest.raises(GitError, match="no such directory"):
        Git(repo / "missing").toplevel()
    with pytest.raises(GitError, match="refusing to pass '--output=x' to 'git diff'"):
        Git(repo).diff("--output=x", "HEAD")
    with pytest.raises(GitError) as info:  # a credential in a URL never reaches a message
        Git(repo).fetch("https://user:s3cr3t-token@127.0.0.1:9/x.git", ["main"])
    assert "s3cr3t" not in str(info.value) + info.value.stderr + " ".join(info.value.command)
    assert "https://***@127.0.0.1:9/x.git" in str(info.value)


def test_git_layer_environment_follows_the_cwd_not_inherited_variables(repo, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    commit(other, {"elsewhere.txt": "x\n"})
    inherited = {**os.environ, "GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other),
                 "GIT_INDEX_FILE": str(other / ".git" / "index"), "GIT_EXTERNAL_DIFF": "false", "LC_ALL": "de_DE.UTF-8"}
    layer = Git(repo, env=inherited)
    assert layer.env["LC_ALL"] == "C" and layer.env["GIT_TERMINAL_PROMPT"] == "0" and "GIT_DIR" not in layer.env
    assert layer.toplevel() == repo.resolve() and layer.ls_files() == ["README.md"]
    # A commit hook of this repository sees the index being committed (``git commit <paths>`` uses a temporary one).
    (repo / "staged.txt").write_text("s\n", encoding="utf-8")
    hook_index = repo / ".git" / "next-index.lock"
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(hook_index)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "staged.txt"], cwd=repo, env=env, check=True)
    assert Git(repo, env=env).ls_files() == ["README.md", "staged.txt"]
    assert Git(repo).ls_files() == ["README.md"]  # the real index does not have it
    assert Git(other, env=env).ls_files() == ["elsewhere.txt"]  # another repository's hook index is ignored


def test_option_like_revisions_from_an_event_never_reach_git(repo, deep_upstream, tmp_path):
    work = clone(repo, tmp_path / "shallow", "--depth", "1", "--branch", "feature")
    for before in ("--upload-pack=touch pwned", "-c"):
        env = event_env(tmp_path, "push", push_event(before, "refs/heads/feature"))
        with pytest.raises(GitError, match=f"refusing to pass '{before}' to 'git fetch'"):
            resolve_range(work, env=env)
    env = event_env(tmp_path, "pull_request", pr_event("--exec=x", "--upload-pack=touch pwned"))
    with pytest.raises(GitError, match="refusing to pass"):
        resolve_range(work, env=env)
    assert not (work / "pwned").exists()
    malformed = event_env(tmp_path, "pull_request", {"pull_request": "not an object", "repository": ["x"]})
    with pytest.raises(RangeError, match="pull_request event without pull_request.base; pass --base"):
        resolve_range(work, env=malformed)
