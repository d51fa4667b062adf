"""Deploy with the local backend, through the real CLI: only changed steps upload, locks are pinned
exactly like the SDK's, re-deploys are no-ops, and failures leave lockfiles consistent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline_ci.deploy import apply, make_plan
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


def test_first_upload_pins_every_step_like_the_sdk(project: Path):
    result = cli("upload", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("stepA", "stepB"):
        data = lock(project / step / "config-lock.yaml")
        digest = hash_step(project / step).digest
        assert data["hash"] == {"algo": "md5", "value": digest} and data["id"] == digest
        assert data["pipeline_step"]["id"] == step and "pipeline_step_compute_info" in data
        assert list(data) == sorted(data)  # PyYAML sorted keys, as the SDK writes them
    root = lock(project / "config-lock.yaml")["pipeline"]
    assert list(root)[:5] == ["id", "user_id", "app_id", "version_id", "orchestration_spec"]
    assert root["version_id"].startswith("pv-")
    digest_a = hash_step(project / "stepA").digest
    assert refs(project)[0] == f"users/u1/apps/a1/pipeline_steps/stepA/versions/{digest_a}"
    assert (project / ".pipeline-ci" / ".gitignore").read_text().strip().endswith("*")
    assert cli("lint", str(project)).returncode == 0


def test_scenario_21_only_the_changed_step_uploads(project: Path):
    assert cli("upload", str(project)).returncode == 0
    before = lock(project / "config-lock.yaml")["pipeline"]["version_id"]
    again = cli("upload", str(project))
    assert "uploaded 0 step(s)" in again.stdout and "pipeline unchanged" in again.stdout
    assert lock(project / "config-lock.yaml")["pipeline"]["version_id"] == before
    old_a, old_b = refs(project)
    script = project / "stepB" / "1" / "pipeline_step.py"
    script.write_bytes(script.read_bytes() + b" ")
    result = cli("upload", str(project))
    assert "uploaded 1 step(s) (stepB=" in result.stdout and "new pipeline version" in result.stdout
    new_a, new_b = refs(project)
    assert new_a == old_a and new_b != old_b
    assert new_b.endswith(hash_step(project / "stepB").digest)
    assert lock(project / "config-lock.yaml")["pipeline"]["version_id"] != before


def test_dry_run_changes_nothing_and_shows_the_plan(project: Path):
    before = snapshot(project)
    result = cli("upload", "--dry-run", str(project))
    assert result.returncode == 0
    assert "upload  stepA" in result.stdout and "upload  stepB" in result.stdout
    assert "pipeline: new version" in result.stdout and "+id: " in result.stdout
    assert snapshot(project) == before and not (project / ".pipeline-ci").exists()


def test_lint_errors_stop_the_deploy_before_any_upload(project: Path):
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("entrypoint: main", "entrypoint: nope"))
    result = cli("upload", str(project))
    assert result.returncode == 2 and "[A07]" in result.stdout and "nothing was uploaded" in result.stderr
    assert not (project / ".pipeline-ci").exists() and not (project / "stepA" / "config-lock.yaml").exists()


class FailingBackend(LocalBackend):
    """Fails the upload of one step, like a broken build."""

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


def test_a_pin_missing_from_the_store_is_uploaded_again(project: Path):
    assert cli("upload", str(project)).returncode == 0
    store = project / ".pipeline-ci"
    for manifest in (store / "store" / "steps").rglob("*.json"):
        if "stepA" in manifest.parts:
            manifest.unlink()
    result = cli("upload", str(project))
    assert "stepA: pinned version" in result.stdout and "uploaded 1 step(s) (stepA=" in result.stdout
