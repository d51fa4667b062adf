"""`pipeline-ci upload --backend clarifai` is crash-safe, race-safe and merge-safe, and its dry run is the truth.

Real `pipeline-ci` subprocesses, real git repositories in temporary folders and the gRPC Clarifai emulator
(:mod:`pipeline_ci.testing.clarifai_emulator`) in-process. Kills are real SIGKILLs, at the named write points of
:mod:`pipeline_ci.crashpoints` (``PIPELINE_CI_TEST_KILL_AT``) or from outside while a build is in progress.
The project is the base project of :mod:`pipeline_ci.testing.projects`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pipeline_ci.crashpoints import POINTS
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import write_files

PAT = "pat-upload-safety-0123456789"
HOLD = 10**6  # build_polls that keep a build running until the test calls finish_builds()


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:
        yield emu


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=check,
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "proj", base_files())
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def environment(emu: ClarifaiEmulator | None, pat: str | None = PAT, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "PIPELINE_CI_", "GITHUB_"))}
    if emu is not None:
        env["CLARIFAI_API_BASE"] = f"http://{emu.address}"
    if pat is not None:
        env["CLARIFAI_PAT"] = pat
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def command(root: Path, *extra: str, name: str = "upload") -> list[str]:
    return [sys.executable, "-m", "pipeline_ci", name, "--backend", "clarifai", *extra, str(root)]


def upload(root: Path, emu: ClarifaiEmulator | None, *extra: str, pat: str | None = PAT, name: str = "upload",
           **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command(root, *extra, name=name), capture_output=True, text=True, timeout=60,
                            env=environment(emu, pat, **env))
    assert PAT not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "--no-cache", str(root)], capture_output=True,
                          text=True, timeout=60, env=environment(None, None))


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def pins(root: Path) -> dict[str, str]:
    """Step id -> version, from the step lockfiles."""
    return {step: load(root / step / "config-lock.yaml")["id"] for step in ("stepA", "stepB")}


def root_pins(root: Path) -> tuple[str, dict[str, str]]:
    """(pipeline version, step id -> pinned version) from the root lockfile."""
    pipeline = load(root / "config-lock.yaml")["pipeline"]
    spec = yaml.safe_load(pipeline["orchestration_spec"]["argo_orchestration_spec"])
    refs = [s["templateRef"]["name"] for g in spec["spec"]["templates"][0]["steps"] for s in g]
    return pipeline["version_id"], {r.split("/")[5]: r.split("/")[7] for r in refs}


def assert_matches_platform(root: Path, emu: ClarifaiEmulator) -> None:
    """Every lockfile parses; the steps pin ready versions of their content; the root pins exactly those and a
    pipeline version that exists; no duplicate content on the platform; no leftover file in the project."""
    ready = {(v.pipeline_step.id, v.id): v for v in emu.step_versions if v.status.description == "PIPELINE_STEP_READY"}
    for step, version in pins(root).items():
        assert (step, version) in ready, (step, version)
        assert load(root / step / "config-lock.yaml")["hash"]["value"] in ready[(step, version)].description
    pipeline_version, pinned = root_pins(root)
    assert pinned == pins(root)
    assert pipeline_version in {v.id for v in emu.pipeline_versions}
    usable = ("PIPELINE_STEP_READY", "PIPELINE_STEP_BUILDING")
    contents = [(v.pipeline_step.id, v.description) for v in emu.step_versions if v.status.description in usable]
    assert len(contents) == len(set(contents)), contents  # one usable version per content
    status = git(root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    assert all(line.endswith("config-lock.yaml") for line in status if line.startswith("??")), status


def change(root: Path, step: str, text: str = "# changed\n") -> None:
    script = root / step / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + text)


# ---------------------------------------------------------------- kill -9 at every write point


@pytest.mark.parametrize("point", [*POINTS, "step-ready#2"])  # #2: the second time (stepB), stepA done
def test_kill_at_each_write_point_then_the_same_command_converges(point: str, repo: Path, emulator: ClarifaiEmulator):
    killed = upload(repo, emulator, PIPELINE_CI_TEST_KILL_AT=point)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    for lock in repo.rglob("config-lock.yaml"):
        load(lock)  # whatever was written is whole
    tmp = repo / ".pipeline-ci" / "tmp"
    assert bool(point.endswith("-temp")) == bool(tmp.is_dir() and list(tmp.iterdir()))  # a half-written lockfile
    rerun = ok(upload(repo, emulator))
    assert not list(tmp.iterdir())  # the leftover is gone
    assert len(emulator.uploads) == 2 and len(emulator.pipeline_versions) == 1
    assert_matches_platform(repo, emulator)  # what lint's L02 checks, and more
    if point in ("step-upload-sent", "step-ready", "step-lock-temp"):
        assert "stepA: reuse version" in rerun and "(found on platform by content hash)" in rerun
    if point == "step-ready#2":
        assert "stepB: reuse version" in rerun and "stepA: reuse" not in rerun
    if point in ("pipeline-created", "root-lock-temp"):
        assert "pipeline: reuse version" in rerun


def test_kill_during_a_build_reuses_the_building_version(repo: Path, emulator: ClarifaiEmulator):
    emulator.build_polls = HOLD
    proc = subprocess.Popen(command(repo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=environment(emulator, PIPELINE_CI_BUILD_CONCURRENCY="1"))  # stepA alone builds
    wait_until(lambda: bool(emulator.uploads))
    time.sleep(0.3)  # the builds overlap: the other step may be uploaded too
    proc.kill()  # SIGKILL while building
    output = proc.communicate(timeout=10)[0]
    building = emulator.uploads
    assert building and not list(repo.rglob("config-lock.yaml")), output
    emulator.build_polls = 0
    emulator.finish_builds()
    rerun = ok(upload(repo, emulator, name="deploy"))  # `deploy` is `upload` (+ run): the same engine
    for version in building:
        assert f"{version.step_id}: reuse version {version.version_id} (found on platform by content hash)" in rerun
    assert sorted(u.step_id for u in emulator.uploads) == ["stepA", "stepB"]
    assert_matches_platform(repo, emulator)


def test_a_failed_build_is_not_reused_and_the_retry_gets_a_new_version(repo: Path, emulator: ClarifaiEmulator):
    emulator.build_outcome("stepA", log_lines=["ERROR: boom"])
    assert upload(repo, emulator).returncode == 1
    rerun = ok(upload(repo, emulator))
    assert "found on platform" not in rerun
    first, second = (u.version_id for u in emulator.uploads if u.step_id == "stepA")
    assert first != second and pins(repo)["stepA"] == second
    assert_matches_platform(repo, emulator)


# ---------------------------------------------------------------- races


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def wait_for(proc: subprocess.Popen, text: str, seen: list[str], timeout: float = 20) -> None:
    """Read ``proc``'s output lines until one contains ``text``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} not printed: {''.join(seen)}")


def test_two_uploads_of_one_project_wait_for_each_other(repo: Path, emulator: ClarifaiEmulator):
    change(repo, "stepB")
    emulator.build_polls = HOLD
    first = subprocess.Popen(command(repo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=environment(emulator))
    first_out: list[str] = []
    wait_until(lambda: bool(emulator.uploads))  # the first one builds, holding the project's upload lock
    second = subprocess.Popen(command(repo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=environment(emulator))
    second_out: list[str] = []
    wait_for(second, "another upload of this project is running", second_out)
    emulator.build_polls = 0
    emulator.finish_builds()
    first_out.append(first.communicate(timeout=30)[0])
    second_out.append(second.communicate(timeout=30)[0])
    assert first.returncode == 0 and second.returncode == 0, "".join(first_out + second_out)
    assert sorted(u.step_id for u in emulator.uploads) == ["stepA", "stepB"]
    assert len(emulator.pipeline_versions) == 1
    assert "uploaded 0 step(s)" in "".join(second_out) and "pipeline unchanged" in "".join(second_out)
    assert_matches_platform(repo, emulator)


def test_two_release_jobs_on_two_clones_race_without_duplicates(repo: Path, emulator: ClarifaiEmulator,
                                                                tmp_path: Path):
    ok(upload(repo, emulator))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lockfiles")
    change(repo, "stepA")
    change(repo, "stepB")
    git(repo, "commit", "-qam", "change both steps")
    clones = [tmp_path / "job1", tmp_path / "job2"]
    for clone in clones:
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, timeout=30)
    before = len(emulator.uploads)
    emulator.build_polls = HOLD
    jobs = [subprocess.Popen(command(clone), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=environment(emulator)) for clone in clones]
    outputs: list[list[str]] = [[], []]
    lookups = len([m for m, _ in emulator.calls if m == "ListPipelineStepVersions"])
    wait_until(lambda: len([m for m, _ in emulator.calls if m == "ListPipelineStepVersions"]) >= lookups + 4)
    time.sleep(0.3)  # both jobs looked for both steps before any build ends; let them upload or adopt
    emulator.build_polls = 0
    emulator.finish_builds()
    for job, seen in zip(jobs, outputs, strict=True):
        seen.append(job.communicate(timeout=30)[0])
        assert job.returncode == 0, "".join(seen)
    assert sorted(u.step_id for u in emulator.uploads[before:]) == ["stepA", "stepB"]  # one version per change
    for clone in clones:
        assert_matches_platform(clone, emulator)
    assert pins(clones[0]) == pins(clones[1]) and root_pins(clones[0]) == root_pins(clones[1])  # they converge


# ---------------------------------------------------------------- merges


def test_merged_branches_pinning_different_steps_are_repaired(repo: Path, emulator: ClarifaiEmulator, tmp_path: Path):
    ok(upload(repo, emulator))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lockfiles")
    for branch, step in (("a", "stepA"), ("b", "stepB")):  # each branch uploads its change and commits the locks
        git(repo, "checkout", "-q", "-b", branch, "main")
        change(repo, step)
        ok(upload(repo, emulator))
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"change {step}, with its lockfiles")
    git(repo, "checkout", "-q", "main")
    for resolution in ("take-ours", "merge-strategy-ours"):
        clone = tmp_path / resolution
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, timeout=30)
        git(clone, "merge", "-q", "origin/a")
        if resolution == "take-ours":  # the root lockfile conflicts; keep a's whole file
            assert git(clone, "merge", "origin/b", check=False).returncode != 0
            git(clone, "checkout", "--ours", "config-lock.yaml")
            git(clone, "add", "config-lock.yaml")
            git(clone, "commit", "-q", "--no-edit")
            assert "[L02]" in lint(clone).stdout  # lint reports the root lockfile behind stepB's
        else:  # git merges the pins line by line and keeps a's version_id: the pins agree, the version does not
            git(clone, "merge", "-q", "-X", "ours", "origin/b")
            assert lint(clone).returncode == 0
        assert root_pins(clone)[0] != emulator.pipeline_versions[-1].id
        versions = len(emulator.pipeline_versions)
        repaired = ok(upload(clone, emulator))
        assert "uploaded 0 step(s)" in repaired and len(emulator.uploads) == 4
        if resolution == "take-ours":
            assert "note [L02]" in repaired and "new pipeline version" in repaired
            assert len(emulator.pipeline_versions) == versions + 1
        else:  # the same pins as the first repair: its pipeline version is found, none is created
            assert "reused (found on platform by content hash)" in repaired
            assert len(emulator.pipeline_versions) == versions
        assert_matches_platform(clone, emulator)
        assert lint(clone).returncode == 0
    again = ok(upload(clone, emulator))
    assert "pipeline unchanged" in again and len(emulator.pipeline_versions) == versions


# ---------------------------------------------------------------- dry run == real run

PLAN_STEP = re.compile(r"^  (upload|reuse)\s+(\S+)\s+\S+\s+(?:-> )?version (\S+)( \(found on platform by content hash\))?")
PLAN_PIPELINE = re.compile(r"^  pipeline: (unchanged|reuse|new)(?:.*?version (\w+))?")


def plan_of(text: str) -> tuple[dict[str, tuple[str, str]], tuple[str, str | None]]:
    """The dry run's decisions: step -> (upload | reuse | found, version) and (pipeline action, version)."""
    steps, pipeline = {}, None
    for line in text.splitlines():
        if match := PLAN_STEP.match(line):
            action = "found" if match[4] else match[1]
            steps[match[2]] = (action, match[3])
        elif match := PLAN_PIPELINE.match(line):
            pipeline = (match[1], match[2])
    assert pipeline is not None, text
    return steps, pipeline


PLAN_CREATE = re.compile(r"^  create  (app|pipeline step) (\S+) \(it does not exist on clarifai\)$", re.M)
REAL_CREATE = re.compile(r"^(?:app (\S+) does not exist; creating it|(\S+): created pipeline step)$", re.M)


def assert_dry_run_is_the_real_run(root: Path, emu: ClarifaiEmulator) -> tuple[dict[str, tuple[str, str]], str, str]:
    """Dry run, then the real upload: what it created, uploaded, reused and pinned is exactly what the plan said.
    Returns (the plan's step decisions, the dry run's output, the real run's output)."""
    calls = len(emu.calls)
    dry = ok(upload(root, emu, "--dry-run"))
    assert "pins verified on clarifai (read-only)" in dry
    assert all(m.startswith(("Get", "List")) for m, _ in emu.calls[calls:])  # the plan only reads
    steps, (pipeline, version) = plan_of(dry)
    uploads, pipelines = len(emu.uploads), len(emu.pipeline_versions)
    real = ok(upload(root, emu))
    planned_creations = sorted(("app" if kind == "app" else "step", name) for kind, name in PLAN_CREATE.findall(dry))
    creations = sorted(("app", app) if app else ("step", step) for app, step in REAL_CREATE.findall(real))
    assert planned_creations == creations, (dry, real)
    new = {u.step_id: u.version_id for u in emu.uploads[uploads:]}
    assert set(new) == {s for s, (action, _) in steps.items() if action == "upload"}, (dry, real)
    for step, (action, planned) in steps.items():
        assert pins(root)[step] == planned, (step, action, dry)
        if action == "upload":
            assert new[step] == planned
    created = [v.id for v in emu.pipeline_versions[pipelines:]]
    if pipeline == "new":
        assert len(created) == 1 and root_pins(root)[0] == created[0]
    else:
        assert created == [] and root_pins(root)[0] == version
    assert_matches_platform(root, emu)
    return steps, dry, real


def test_dry_run_equals_the_real_run_after_mixed_uploads(repo: Path, emulator: ClarifaiEmulator):
    ok(upload(repo, None, "--backend", "local"))  # a local upload: pins in .pipeline-ci only
    steps, _, _ = assert_dry_run_is_the_real_run(repo, emulator)
    assert {a for a, _ in steps.values()} == {"upload"}
    change(repo, "stepB")
    steps, _, _ = assert_dry_run_is_the_real_run(repo, emulator)
    assert steps["stepA"][0] == "reuse" and steps["stepB"][0] == "upload"
    change(repo, "stepB", "# again\n")
    assert upload(repo, emulator, PIPELINE_CI_TEST_KILL_AT="step-ready").returncode == -signal.SIGKILL
    steps, _, _ = assert_dry_run_is_the_real_run(repo, emulator)  # the killed upload's version is found
    assert steps["stepB"][0] == "found"


def test_pins_missing_on_the_platform_are_planned_and_uploaded(repo: Path, emulator: ClarifaiEmulator):
    with ClarifaiEmulator({PAT}, build_polls=0) as other:  # the lockfiles pin versions of another account
        ok(upload(repo, other))
    steps, dry, _ = assert_dry_run_is_the_real_run(repo, emulator)
    assert {a for a, _ in steps.values()} == {"upload"}
    assert dry.count("is not on clarifai") == 3  # both step pins and the pipeline version


@pytest.mark.parametrize("app_exists", [False, True])
def test_the_plan_names_the_app_and_the_steps_the_upload_creates(repo: Path, emulator: ClarifaiEmulator,
                                                                 app_exists: bool):
    if app_exists:
        emulator.add_app("u1", "a1")
    _, dry, real = assert_dry_run_is_the_real_run(repo, emulator)  # the creations planned are the ones made
    assert ("  create  app a1 (it does not exist on clarifai)" in dry) is not app_exists
    assert ("app a1 does not exist; creating it" in real) is not app_exists
    for step in ("stepA", "stepB"):
        assert f"  create  pipeline step {step} (it does not exist on clarifai)" in dry
        assert f"{step}: created pipeline step" in real
    change(repo, "stepA")  # the steps exist now: nothing is created
    _, dry, real = assert_dry_run_is_the_real_run(repo, emulator)
    assert "  create  " not in dry and "creating it" not in real and "created pipeline step" not in real


def set_lock_id(root: Path, step: str, version: str) -> None:
    """What a bad merge of a step lockfile can leave: one branch's ``id`` next to the other branch's ``hash``."""
    lock = root / step / "config-lock.yaml"
    text = lock.read_text()
    assert text.count(f"id: {pins(root)[step]}\n") == 1, text
    lock.write_text(text.replace(f"id: {pins(root)[step]}\n", f"id: {version}\n"))
    git(root, "commit", "-qam", f"a bad merge of {step}'s lockfile")


def test_a_pin_holding_other_content_than_its_lockfile_hash_is_replaced_by_the_version_of_that_content(
        repo: Path, emulator: ClarifaiEmulator):
    ok(upload(repo, emulator))
    old = pins(repo)["stepA"]  # v1
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    change(repo, "stepA")
    ok(upload(repo, emulator))
    current = pins(repo)["stepA"]  # v2: the content in the tree and the lockfile's hash
    git(repo, "commit", "-qam", "v2")
    set_lock_id(repo, "stepA", old)
    uploads = len(emulator.uploads)
    steps, dry, real = assert_dry_run_is_the_real_run(repo, emulator)  # pins the version holding v2, not v1
    note = f"pinned version {old} holds other content than the lockfile's hash"
    assert steps == {"stepA": ("found", current), "stepB": ("reuse", pins(repo)["stepB"])}
    assert "  reuse   stepA" in dry and f"({note})" in dry
    assert f"stepA: reuse version {current} (found on platform by content hash); its {note}" in real
    assert len(emulator.uploads) == uploads and root_pins(repo)[1]["stepA"] == current


def test_a_pin_holding_other_content_is_replaced_by_an_upload_when_no_version_holds_the_lockfile_hash(
        repo: Path, emulator: ClarifaiEmulator):
    ok(upload(repo, emulator))
    old = pins(repo)["stepA"]  # v1, on this account
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    change(repo, "stepA")
    with ClarifaiEmulator({PAT}, build_polls=0) as other:  # v2 was uploaded elsewhere: this account lacks it
        ok(upload(repo, other))
    git(repo, "commit", "-qam", "v2")
    set_lock_id(repo, "stepA", old)
    uploads = len(emulator.uploads)
    steps, dry, real = assert_dry_run_is_the_real_run(repo, emulator)
    note = f"pinned version {old} holds other content than the lockfile's hash"
    assert steps["stepA"][0] == "upload" and steps["stepA"][1] != old and f"({note})" in dry
    assert f"stepA: uploading (its {note})" in real
    assert [u.step_id for u in emulator.uploads[uploads:]] == ["stepA"]


def test_a_dry_run_without_credentials_says_the_pins_were_not_verified(repo: Path, emulator: ClarifaiEmulator,
                                                                       tmp_path: Path):
    dry = ok(upload(repo, emulator, "--dry-run", pat=None, HOME=str(tmp_path)))  # no Clarifai CLI config either
    assert "pins not verified: no credentials for clarifai" in dry and "pins verified" not in dry
    assert "upload  stepA" in dry and "-> version <new>" in dry
    assert emulator.calls == []  # nothing asked
