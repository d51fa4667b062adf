"""The two team workflows of the README ("Team workflows: who writes the lockfiles"), each as one whole story with
real git repositories (a bare ``origin`` and clones), the Clarifai gRPC emulator, the action's run script in a
simulated runner (tests/test_action_runs.py) and real ``pipeline-ci`` subprocesses:

feature branch changes one step -> pull request check (lint with the flow's settings, ``changed``) -> merge ->
release job -> the next pull request's lint and ``changed`` report nothing stale.

- CI uploads (examples/workflows/ci-uploads/): the PR passes with a warning naming the step; the release job
  uploads exactly that step, publishes ``lockfiles`` and commits them back with the example's own commit script,
  which replays the commit when the branch moved meanwhile.
- Developers upload (examples/workflows/developers-upload/): the PR fails with the fix command; the developer runs
  it and commits the lockfiles; the release (``deploy --run``) uploads nothing and writes no lockfile.

Also: the bundled example's lockfiles are byte-identical to what our writer (and the SDK's) produces.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pipeline_ci import lockfiles
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator

from .conftest import REPO
from .test_action_runs import COMPLETED, PAT, RUNNING, Runner

EXAMPLE = REPO / "examples" / "hello-pipeline"
FLOWS = REPO / "examples" / "workflows"
PROJECT = "pipelines/hello"
GIT_ENV = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def pipeline_ci(cwd: Path, emu: ClarifaiEmulator, *args: str) -> subprocess.CompletedProcess:
    """A developer's terminal: the real CLI with credentials, outside Actions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CLARIFAI_", "RUNNER_"))}
    env.update({"CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": f"http://{emu.address}"})
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture
def emulator() -> Iterator[ClarifaiEmulator]:
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:  # builds finish at once: no poll waits
        yield emu


class Team:
    """A bare ``origin`` whose ``main`` holds the released example (steps uploaded, lockfiles committed)."""

    def __init__(self, tmp: Path, emu: ClarifaiEmulator):
        self.tmp, self.emu = tmp, emu
        self.origin = tmp / "origin.git"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        seed = self.clone("seed")
        shutil.copytree(EXAMPLE, seed / PROJECT, ignore=shutil.ignore_patterns("__pycache__", ".pipeline-ci"))
        (seed / "README.md").write_text("team repository\n")
        git(seed, "add", "-A")
        git(seed, "commit", "-qm", "hello pipeline")
        first = pipeline_ci(seed, emu, "upload", "--backend", "clarifai", PROJECT)  # the first release, by hand
        assert first.returncode == 0, first.stdout + first.stderr
        git(seed, "commit", "-qam", "pin the first release [skip ci]")
        git(seed, "push", "-q", "origin", "main")
        self.released = len(emu.uploads)
        assert self.released == 3

    def clone(self, name: str, branch: str = "main") -> Path:
        path = self.tmp / name
        git(self.tmp, "clone", "-q", "--no-local", str(self.origin), str(path))
        if git(path, "branch", "-r"):
            git(path, "checkout", "-q", branch)
        return path

    def feature(self, name: str, step: str = "report") -> Path:
        """A developer's clone with one step changed on a feature branch, pushed."""
        dev = self.clone(f"dev-{name}")
        git(dev, "checkout", "-qb", name)
        script = dev / PROJECT / step / "1" / "pipeline_step.py"
        script.write_text(script.read_text() + f"\n# {name}: a change to {step}\n")
        git(dev, "commit", "-qam", f"{name}: change {step}")
        git(dev, "push", "-q", "origin", name)
        return dev

    def merge(self, dev: Path, branch: str) -> None:
        git(dev, "checkout", "-q", "main")
        git(dev, "pull", "-q", "--ff-only", "origin", "main")
        git(dev, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch)
        git(dev, "push", "-q", "origin", "main")

    def pr_check(self, branch: str, name: str, **lint_inputs: str) -> dict[str, tuple[int, str, dict[str, str]]]:
        """The pull-request workflow: a fresh checkout of ``branch`` (fetch-depth 0), then the action's lint and
        changed steps with a pull_request event against main."""
        ci = self.clone(f"ci-{name}", branch)
        event = {"pull_request": {"base": {"ref": "main", "sha": git(ci, "rev-parse", "origin/main")}}}
        results = {}
        for command, inputs in (("lint", lint_inputs), ("changed", {})):
            runner = Runner(self.tmp / f"runner-{name}-{command}", "pull_request", event)
            runner.env["GITHUB_WORKSPACE"] = str(ci)
            code, out = runner.run(ci, command=command, path="pipelines", **inputs)
            results[command] = (code, out, runner.outputs())
        return results

    def upload_versions(self) -> list[str]:
        return [u.step_id for u in self.emu.uploads[self.released:]]


def stale_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "stale-lock" in line or "[L04]" in line or "L04" in line]


def assert_next_pr_is_clean(team: Team) -> None:
    """A new pull request that changes no step: lint and `changed` report nothing stale."""
    dev = team.clone("dev-next")
    git(dev, "checkout", "-qb", "next")
    (dev / "README.md").write_text("team repository, next change\n")
    git(dev, "commit", "-qam", "docs")
    git(dev, "push", "-q", "origin", "next")
    checks = team.pr_check("next", "next", require_fresh_locks="true")  # even the strict check passes
    code, out, _ = checks["lint"]
    assert code == 0, out
    assert stale_lines(out) == [] and "::warning" not in out and "::error" not in out
    code, out, outputs = checks["changed"]
    assert code == 0, out
    assert outputs["changed"] == "false" and json.loads(outputs["steps"]) == []
    assert json.loads(outputs["matrix"]) == {"include": []}  # both baselines: git and the lockfiles


def commit_step_script() -> str:
    """The `run:` of the commit step of examples/workflows/ci-uploads/release.yml, as the runner gets it."""
    workflow = yaml.safe_load((FLOWS / "ci-uploads" / "release.yml").read_text())
    (commit,) = [s for s in workflow["jobs"]["release"]["steps"] if s.get("id") == "commit"]
    return commit["run"]


def run_commit_step(team: Team, checkout: Path, lockfiles_json: str) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))},
           "GIT_CONFIG_NOSYSTEM": "1", "LOCKFILES": lockfiles_json, "BRANCH": "main"}
    return subprocess.run(["bash", "-c", commit_step_script()], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=120)


# --- CI uploads (the default) -----------------------------------------------------------------------------------


def test_ci_uploads_story(tmp_path: Path, emulator: ClarifaiEmulator):
    team = Team(tmp_path, emulator)
    dev = team.feature("feature")

    # Pull request: passes; the stale lock is a warning naming the step the release will upload.
    checks = team.pr_check("feature", "feature")
    code, out, _ = checks["lint"]
    assert code == 0, out
    (warning,) = [line for line in out.splitlines() if line.startswith("::warning") and "L04" in line]
    assert "uploads step 'report'" in warning and "the next release" in warning
    assert not [line for line in out.splitlines() if line.startswith("::error")]
    code, out, outputs = checks["changed"]
    assert code == 0, out
    assert outputs["changed"] == "true"
    assert [s["step_id"] for s in json.loads(outputs["steps"])] == ["report"]
    assert team.upload_versions() == []  # developers uploaded nothing

    team.merge(dev, "feature")

    # Release job: a checkout of main's head, `upload` through the action, the example's commit step.
    release = team.clone("release")
    runner = Runner(tmp_path / "runner-release", "push", {"ref": "refs/heads/main"})
    runner.env["GITHUB_WORKSPACE"] = str(release)
    code, out = runner.run(release, command="upload", path="pipelines", backend="clarifai", CLARIFAI_PAT=PAT,
                           CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    assert team.upload_versions() == ["report"]  # exactly the changed step
    written = json.loads(runner.outputs()["lockfiles"])
    assert written == [f"{PROJECT}/config-lock.yaml", f"{PROJECT}/report/config-lock.yaml"]

    # Meanwhile someone merges an unrelated change: the push is rejected, the commit is replayed on the new head.
    other = team.clone("dev-other")
    (other / "README.md").write_text("team repository, edited while the release ran\n")
    git(other, "commit", "-qam", "docs while releasing")
    git(other, "push", "-q", "origin", "main")

    pushed = run_commit_step(team, release, runner.outputs()["lockfiles"])
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "moved while this job ran (attempt 1)" in pushed.stdout and "pushed the lockfiles to main" in pushed.stdout
    log = git(release, "log", "--format=%s", "origin/main", "-3").splitlines()
    assert log == ["pipeline-ci: pin the uploaded step versions [skip ci]", "docs while releasing", "Merge feature"]
    changed_files = git(release, "show", "--name-only", "--format=", "origin/main").splitlines()
    assert sorted(changed_files) == written
    assert team.upload_versions() == ["report"]  # the retry uploaded nothing

    # Running the commit step again (e.g. a re-run of the job) finds nothing to commit.
    again = run_commit_step(team, release, runner.outputs()["lockfiles"])
    assert again.returncode == 0 and "nothing to commit" in again.stdout

    assert_next_pr_is_clean(team)


def test_ci_uploads_commit_step_with_a_conflicting_head_and_without_lockfiles(tmp_path: Path,
                                                                             emulator: ClarifaiEmulator):
    """The branch's new head changed the same lockfiles differently: the commit step leaves them to that head's
    release run (a warning, exit 0: no example fails by design) and pushes nothing; that run finds the version by
    its content hash, uploads nothing and commits the pins. An empty list commits nothing."""
    team = Team(tmp_path, emulator)
    dev = team.feature("feature")
    team.merge(dev, "feature")
    release = team.clone("release")
    uploaded = pipeline_ci(release, emulator, "upload", "--backend", "clarifai", PROJECT)
    assert uploaded.returncode == 0, uploaded.stderr
    rival = team.clone("rival")  # someone pinned the step to another version by hand and pushed first
    lock = rival / PROJECT / "report" / "config-lock.yaml"
    lock.write_text(lock.read_text().replace("id: ", "id: hand-", 1))
    git(rival, "commit", "-qam", "pin report by hand")
    git(rival, "push", "-q", "origin", "main")
    head = git(rival, "rev-parse", "HEAD")
    written = json.dumps([f"{PROJECT}/config-lock.yaml", f"{PROJECT}/report/config-lock.yaml"])
    result = run_commit_step(team, release, written)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::warning title=pipeline-ci release::the new head of main changed these lockfiles too" in result.stdout
    assert git(release, "ls-remote", "origin", "refs/heads/main").split()[0] == head
    assert git(release, "status", "--porcelain", "--untracked-files=no") == ""  # the rebase was aborted cleanly
    first_version = team.emu.uploads[-1].version_id
    assert team.upload_versions() == ["report"]

    # The release run of the new head: its upload finds the version uploaded above by content hash (no second
    # version) and the commit step pins it.
    retry = team.clone("release-retry")
    runner = Runner(tmp_path / "runner-retry", "push", {"ref": "refs/heads/main"})
    runner.env["GITHUB_WORKSPACE"] = str(retry)
    code, out = runner.run(retry, command="upload", path="pipelines", backend="clarifai", CLARIFAI_PAT=PAT,
                           CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    assert team.upload_versions() == ["report"]
    assert yaml.safe_load((retry / PROJECT / "report" / "config-lock.yaml").read_text())["id"] == first_version
    pushed = run_commit_step(team, retry, runner.outputs()["lockfiles"])
    assert pushed.returncode == 0 and "pushed the lockfiles to main" in pushed.stdout, pushed.stdout + pushed.stderr

    empty = run_commit_step(team, team.clone("empty"), "[]")
    assert empty.returncode == 0 and "nothing to commit" in empty.stdout


# --- Developers upload ------------------------------------------------------------------------------------------


def test_developers_upload_story(tmp_path: Path, emulator: ClarifaiEmulator):
    team = Team(tmp_path, emulator)
    dev = team.feature("feature")

    # Pull request with `require-fresh-locks: "true"` (examples/workflows/developers-upload/pr.yml): fails, and the
    # error names the command that fixes it, pipeline-ci first, the Clarifai CLI second.
    checks = team.pr_check("feature", "feature", require_fresh_locks="true")
    code, out, _ = checks["lint"]
    assert code == 1, out
    (error,) = [line for line in out.splitlines() if line.startswith("::error") and "L04" in line]
    fix = f"`pipeline-ci upload --backend clarifai {PROJECT}` (or `clarifai pipeline upload {PROJECT}`)"
    assert "report changed since its lockfile was written" in error and fix in error
    assert "and commit the lockfiles" in error

    # The developer runs exactly that command and commits the lockfiles.
    fixed = pipeline_ci(dev, emulator, "upload", "--backend", "clarifai", PROJECT)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert team.upload_versions() == ["report"]
    assert git(dev, "diff", "--name-only").splitlines() == [f"{PROJECT}/config-lock.yaml",
                                                           f"{PROJECT}/report/config-lock.yaml"]
    assert git(dev, "status", "--porcelain", "--untracked-files=all") == git(dev, "status", "--porcelain",
                                                                             "--untracked-files=no")
    git(dev, "commit", "-qam", "pin report")
    git(dev, "push", "-q", "origin", "feature")
    code, out, _ = team.pr_check("feature", "feature-fixed", require_fresh_locks="true")["lint"]
    assert code == 0, out
    assert stale_lines(out) == []

    team.merge(dev, "feature")

    # Release (developers-upload/release.yml): one `deploy --run` step; nothing to upload, no lockfile written.
    emulator.script_run([(RUNNING, 1), (COMPLETED, 1)])
    release = team.clone("release")
    runner = Runner(tmp_path / "runner-release", "push", {"ref": "refs/tags/v1.0.0"})
    runner.env["GITHUB_WORKSPACE"] = str(release)
    code, out = runner.run(release, command="deploy", path=PROJECT, backend="clarifai", compute_cluster_id="cc",
                           nodepool_id="np", set="input_text=Release v1.0.0",
                           overrides_file=f"{PROJECT}/overrides.yaml", extra_args="--run --max-interval 0.2",
                           CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    outputs = runner.outputs()
    assert outputs["status"] == "succeeded" and outputs["lockfiles"] == "[]"
    assert team.upload_versions() == ["report"]  # the release uploaded nothing
    assert git(release, "status", "--porcelain") == ""

    assert_next_pr_is_clean(team)


# --- the bundled example's lockfiles ----------------------------------------------------------------------------


def test_example_lockfiles_are_what_an_upload_writes():
    """Byte-identical to our writer (the SDK's format): step ids are platform version ids, not content hashes or
    local pins, and the root lockfile pins exactly the step lockfiles' versions."""
    config = yaml.safe_load((EXAMPLE / "config.yaml").read_text())["pipeline"]
    versions = {}
    for step in config["step_directories"]:
        text = (EXAMPLE / step / "config-lock.yaml").read_text()
        lock = yaml.safe_load(text)
        step_config = yaml.safe_load((EXAMPLE / step / "config.yaml").read_text())
        assert text == lockfiles.step_lock_text(lock["id"], lock["hash"]["value"], step_config)
        assert lock["id"] != lock["hash"]["value"] and not lock["id"].startswith(("pv-", "local-"))
        versions[(config["user_id"], config["app_id"], step_config["pipeline_step"]["id"])] = lock["id"]
    root_text = (EXAMPLE / "config-lock.yaml").read_text()
    version_id = yaml.safe_load(root_text)["pipeline"]["version_id"]
    spec = yaml.safe_load(config["orchestration_spec"]["argo_orchestration_spec"])
    assert root_text == lockfiles.root_lock_text(config, lockfiles.pin_refs(spec, versions), version_id)
    assert not version_id.startswith(("pv-", "local-"))
    readme = (EXAMPLE / "README.md").read_text()
    assert version_id in readme and all(v in readme for v in versions.values())
    assert "scripts/" not in readme
