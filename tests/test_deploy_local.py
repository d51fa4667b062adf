"""Deploy with the local backend, through the real CLI: only changed steps are stored, pins live in the
git-ignored store and never in a committed lockfile, re-deploys are no-ops; and the lockfile-writing engine
remote uploads use leaves lockfiles consistent after a failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline_ci.deploy import apply, lock_texts, make_plan
from pipeline_ci.hashing import hash_step
from pipeline_ci.platforms.base import DeployError
from pipeline_ci.platforms.local.store import LocalBackend
from pipeline_ci.project import load_project
from pipeline_ci.testing.projects import base_files

from .conftest import write_files


def cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "proj", base_files())


def lock(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def refs(root: Path) -> list[str]:
    spec = yaml.safe_load(lock(root / "config-lock.yaml")["pipeline"]["orchestration_spec"]["argo_orchestration_spec"])
    return [s["templateRef"]["name"] for g in spec["spec"]["templates"][0]["steps"] for s in g]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def local_pins(root: Path, kind: str = "steps") -> list[Path]:
    return sorted((root / ".pipeline-ci" / "store" / "locks" / kind).rglob("*.yaml"))


def test_a_local_upload_writes_no_lockfile_and_pins_in_the_store(project: Path):
    before = snapshot(project)
    result = cli("upload", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(project.rglob("config-lock.yaml"))
    assert {k: v for k, v in snapshot(project).items() if not k.startswith(".pipeline-ci")} == before
    pins = local_pins(project)
    assert sorted(p.stem for p in pins) == sorted(hash_step(project / s).digest for s in ("stepA", "stepB"))
    for pin in pins:
        data = yaml.safe_load(pin.read_text())
        assert data["id"] == data["hash"]["value"] == pin.stem
    [root_pin] = local_pins(project, "pipelines")
    assert root_pin.stem.startswith("pv-") and root_pin.stem in result.stdout
    digest_a = hash_step(project / "stepA").digest
    assert f"users/u1/apps/a1/pipeline_steps/stepA/versions/{digest_a}" in root_pin.read_text()
    assert "stepA: differs from its lockfile (no lockfile); running the working tree" in result.stdout
    assert (project / ".pipeline-ci" / ".gitignore").read_text().strip().endswith("*")
    assert cli("lint", str(project)).returncode == 0


def test_scenario_21_only_the_changed_step_is_stored(project: Path):
    assert cli("upload", str(project)).returncode == 0
    again = cli("upload", str(project))
    assert "uploaded 0 step(s)" in again.stdout and "pipeline unchanged" in again.stdout
    assert len(local_pins(project, "pipelines")) == 1
    script = project / "stepB" / "1" / "pipeline_step.py"
    script.write_bytes(script.read_bytes() + b" ")
    result = cli("upload", str(project))
    assert "uploaded 1 step(s) (stepB=" in result.stdout and "new pipeline version" in result.stdout
    assert hash_step(project / "stepB").digest in result.stdout
    assert len(local_pins(project)) == 3 and len(local_pins(project, "pipelines")) == 2
    assert not list(project.rglob("config-lock.yaml"))


def test_dry_run_changes_nothing_and_shows_what_the_local_deploy_does(project: Path):
    before = snapshot(project)
    result = cli("upload", "--dry-run", str(project))
    assert result.returncode == 0
    assert "store   stepA" in result.stdout and "store   stepB" in result.stdout
    assert "pipeline: new local version pv-" in result.stdout and ".pipeline-ci/store/locks/" in result.stdout
    assert "+id: " not in result.stdout and "committed lockfiles: not touched" in result.stdout
    assert snapshot(project) == before and not (project / ".pipeline-ci").exists()
    assert cli("upload", str(project)).returncode == 0
    after = cli("upload", "--dry-run", str(project))
    assert "reuse   stepA" in after.stdout and "pipeline: unchanged, local version" in after.stdout


def test_lint_errors_stop_the_deploy_before_any_upload(project: Path):
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: main", "entrypoint: nope"))
    result = cli("upload", str(project))
    assert result.returncode == 2 and "[A07]" in result.stdout and "nothing was uploaded" in result.stderr
    assert not (project / ".pipeline-ci").exists() and not (project / "stepA" / "config-lock.yaml").exists()


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def test_a_local_deploy_leaves_committed_remote_pins_alone(project: Path):
    plan = make_plan(load_project(project), tracked_only=False)
    remote = {"stepA": "8f2c0a1e9b7d4c35", "stepB": "c41d7e02a9f3b6e8"}  # Clarifai-looking ids, not content hashes
    for path, text in lock_texts(plan, remote, "e5a9b1c7d3f2").items():
        Path(path).write_text(text)
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "remote pins")
    script = project / "stepB" / "1" / "pipeline_step.py"
    script.write_bytes(script.read_bytes() + b"# changed\n")
    result = cli("deploy", str(project), "--backend", "local", "--run", "--isolation", "none")
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(project, "status", "--porcelain").splitlines() == [" M stepB/1/pipeline_step.py"]
    assert "stepB: differs from its lockfile (content changed); running the working tree" in result.stdout
    assert "stepA: differs" not in result.stdout and "Succeeded" in result.stdout
    stored = sorted((project / ".pipeline-ci" / "store" / "steps").rglob("*.tar.gz"))
    assert len(stored) == 2 and len(local_pins(project)) == 2
    again = cli("deploy", str(project), "--backend", "local")
    assert again.returncode == 0 and "uploaded 0 step(s)" in again.stdout and "pipeline unchanged" in again.stdout
    assert sorted((project / ".pipeline-ci" / "store" / "steps").rglob("*.tar.gz")) == stored
    assert git(project, "status", "--porcelain").splitlines() == [" M stepB/1/pipeline_step.py"]
    dry = cli("upload", "--dry-run", "--backend", "clarifai", str(project))
    assert "upload  stepB" in dry.stdout and "reuse   stepA" in dry.stdout and remote["stepA"] in dry.stdout


class FailingBackend(LocalBackend):
    """Stands in for a remote backend in the lockfile-writing engine (:func:`apply`, what remote uploads use);
    fails the upload of one step, like a broken build."""

    def __init__(self, root: Path, fail: str):
        super().__init__(root)
        self.fail = fail
        self.uploaded: list[str] = []

    def upload_step(self, upload, log):
        if upload.key[2] == self.fail:
            raise DeployError(f"{self.fail}: build failed", 1, ["compile error"])
        self.uploaded.append(upload.key[2])
        return super().upload_step(upload, log)


def test_a_failure_midway_leaves_consistent_locks_and_a_rerun_finishes(project: Path):
    backend = FailingBackend(project, fail="stepB")
    with pytest.raises(DeployError):
        apply(make_plan(load_project(project), tracked_only=False), backend, lambda _line: None)
    assert backend.uploaded == ["stepA"]
    assert lock(project / "stepA" / "config-lock.yaml")["hash"]["value"] == hash_step(project / "stepA").digest
    assert not (project / "stepB" / "config-lock.yaml").exists()
    assert not (project / "config-lock.yaml").exists()
    assert not list(project.rglob("*.tmp"))
    backend = FailingBackend(project, fail="none")
    result = apply(make_plan(load_project(project), tracked_only=False), backend, lambda _line: None)
    assert backend.uploaded == ["stepB"] and result.pipeline_version_created
    assert len(refs(project)) == 2 and all("/versions/" in r for r in refs(project))


def test_a_pin_missing_from_the_store_is_stored_again(project: Path):
    assert cli("upload", str(project)).returncode == 0
    for manifest in (project / ".pipeline-ci" / "store" / "steps").rglob("*.json"):
        if "stepA" in manifest.parts:
            manifest.unlink()
    result = cli("upload", str(project))
    assert "uploaded 1 step(s) (stepA=" in result.stdout and "reused 1" in result.stdout


def test_deploy_dry_run_is_the_upload_plan_and_changes_nothing(project: Path):
    before = snapshot(project)
    planned = cli("upload", str(project), "--dry-run")
    deployed = cli("deploy", str(project), "--dry-run", "--run", "--set", "input_text=hi")
    assert planned.returncode == deployed.returncode == 0, deployed.stdout + deployed.stderr
    plan = [line for line in planned.stdout.splitlines() if not line.startswith("lint:")]
    assert deployed.stdout.splitlines()[:len(plan) + 1][-len(plan):] == plan  # the same plan, line for line
    assert "would then run the uploaded version on local with parameters input_text=hi" in deployed.stdout
    assert snapshot(project) == before  # nothing stored, no run record, no lockfile
    bad = cli("deploy", str(project), "--dry-run", "--run", "--set", "nope=1")
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_a_monorepo_upload_sets_one_output_per_project_not_one_value_twice(tmp_path: Path):
    """Two projects: ``pipeline-version-ids`` maps each to its version; ``pipeline-version-id`` (one value) is set
    only for a single project. Before, it was written once per project and a workflow saw only one of them."""
    for name in ("a", "b"):
        write_files(tmp_path / "pipelines" / name, base_files())
    outputs = tmp_path / "out.txt"
    result = cli("upload", "pipelines", "--backend", "local", cwd=tmp_path, env={"GITHUB_OUTPUT": str(outputs)})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = outputs.read_text().splitlines()
    assert not [line for line in lines if line.startswith("pipeline-version-id=")], lines
    [ids] = [line.removeprefix("pipeline-version-ids=") for line in lines if line.startswith("pipeline-version-ids=")]
    versions = json.loads(ids)
    assert sorted(versions) == ["pipelines/a", "pipelines/b"] and all(versions.values()), versions
    one = tmp_path / "one.txt"
    result = cli("upload", "pipelines/a", "--backend", "local", cwd=tmp_path, env={"GITHUB_OUTPUT": str(one)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pipeline-version-id={versions['pipelines/a']}" in one.read_text().splitlines()
