"""`pipeline-ci upload --backend clarifai` through the real CLI against a gRPC emulator built from
clarifai-grpc's own servicer: the SDK's RPC sequence, hash-skip, idempotency and faults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator  # noqa: E402
from pipeline_ci.testing.projects import base_files  # noqa: E402

from .conftest import write_files  # noqa: E402

PAT = "pat-0123456789abcdef-secret"


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "proj", base_files())


def upload(project: Path, emu: ClarifaiEmulator, pat: str | None = PAT, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFAI_")}
    env["CLARIFAI_API_BASE"] = f"http://{emu.address}"
    if pat is not None:
        env["CLARIFAI_PAT"] = pat
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", "--backend", "clarifai", *extra,
                             str(project)], capture_output=True, text=True, env=env, timeout=180)
    assert PAT not in result.stdout + result.stderr
    return result


def lock(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def refs(root: Path) -> list[str]:
    text = lock(root / "config-lock.yaml")["pipeline"]["orchestration_spec"]["argo_orchestration_spec"]
    return [s["templateRef"]["name"] for g in yaml.safe_load(text)["spec"]["templates"][0]["steps"] for s in g]


def test_upload_follows_the_sdk_sequence_and_skips_unchanged_steps(project: Path, emulator: ClarifaiEmulator):
    first = upload(project, emulator)
    assert first.returncode == 0, first.stdout + first.stderr
    methods = [m for m, _ in emulator.calls]
    assert methods[:2] == ["GetApp", "PostApps"]
    assert methods.count("PostPipelineStepVersionsUpload") == 2 and methods.count("PostPipelines") == 1
    assert methods.index("GetPipelineStep") < methods.index("PostPipelineSteps") < methods.index(
        "PostPipelineStepVersionsUpload")
    upload_a = next(u for u in emulator.uploads if u.step_id == "stepA")
    assert "Dockerfile" in first.stdout and {"config.yaml", "1/pipeline_step.py", "Dockerfile"} <= set(
        m.lstrip("./") for m in upload_a.members)
    assert not (project / "stepA" / "Dockerfile").exists()  # generated into the archive only
    assert "clarifai" not in (project / "stepA" / "requirements.txt").read_text()
    assert lock(project / "stepA" / "config-lock.yaml")["id"] == upload_a.version_id
    version = lock(project / "config-lock.yaml")["pipeline"]["version_id"]
    assert version == emulator.pipeline_versions[-1].id

    again = upload(project, emulator)
    assert again.returncode == 0 and "uploaded 0 step(s)" in again.stdout and "pipeline unchanged" in again.stdout
    assert len(emulator.uploads) == 2 and len(emulator.pipeline_versions) == 1

    old_a, old_b = refs(project)
    script = project / "stepB" / "1" / "pipeline_step.py"
    script.write_bytes(script.read_bytes() + b"\n")
    third = upload(project, emulator)
    assert third.returncode == 0, third.stdout + third.stderr
    assert len(emulator.uploads) == 3 and emulator.uploads[-1].step_id == "stepB"
    new_a, new_b = refs(project)
    assert new_a == old_a and new_b != old_b and new_b.endswith(emulator.uploads[-1].version_id)
    assert len(emulator.pipeline_versions) == 2


def test_missing_and_rejected_pat(project: Path, emulator: ClarifaiEmulator):
    missing = upload(project, emulator, pat=None)
    assert missing.returncode == 2 and "CLARIFAI_PAT is not set" in missing.stderr
    rejected = upload(project, emulator, pat="wrong-pat-value")
    assert rejected.returncode == 3 and "rejected CLARIFAI_PAT" in rejected.stderr
    assert "wrong-pat-value" not in rejected.stdout + rejected.stderr
    assert not (project / "stepA" / "config-lock.yaml").exists()


def test_broken_upload_stream_is_retried_without_a_duplicate_version(project: Path, emulator: ClarifaiEmulator):
    emulator.inject("PostPipelineStepVersionsUpload", "break_stream", times=1)
    result = upload(project, emulator)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(emulator.uploads) == 2 and len({u.version_id for u in emulator.uploads}) == 2
    assert len(emulator.step_versions) == 2


def test_failed_build_stops_with_its_log_and_consistent_locks(project: Path, emulator: ClarifaiEmulator):
    emulator.build_outcome("stepB", log_lines=["ERROR: could not find a version that satisfies numpy==99"])
    result = upload(project, emulator)
    assert result.returncode == 1
    assert "build of version" in result.stderr and "  | ERROR: could not find a version that satisfies numpy==99" in result.stderr
    assert lock(project / "stepA" / "config-lock.yaml")["id"]  # stepA is uploaded and pinned
    assert not (project / "stepB" / "config-lock.yaml").exists()
    assert not (project / "config-lock.yaml").exists() and not emulator.pipeline_versions
    rerun = upload(project, emulator)
    assert rerun.returncode == 0, rerun.stdout
    assert [u.step_id for u in emulator.uploads].count("stepA") == 1  # not uploaded twice


def test_unavailable_on_every_other_call_still_converges(project: Path, emulator: ClarifaiEmulator):
    for method in ("GetPipelineStep", "GetPipelineStepVersion", "PostPipelines", "GetApp"):
        emulator.inject(method, "unavailable", times=20, every=2)
    result = upload(project, emulator)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(emulator.uploads) == 2 and len(emulator.pipeline_versions) == 1
    assert all("/versions/" in r for r in refs(project))


def test_throttling_is_retried(project: Path, emulator: ClarifaiEmulator):
    emulator.inject("PostPipelines", "throttled", times=2)
    result = upload(project, emulator)
    assert result.returncode == 0 and "retrying" in result.stdout
    assert len(emulator.pipeline_versions) == 1


def test_dry_run_needs_no_credentials_and_sends_nothing(project: Path, emulator: ClarifaiEmulator):
    calls = len(emulator.calls)
    result = upload(project, emulator, None, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "upload  stepA" in result.stdout and "-> version <new>" in result.stdout
    assert len(emulator.calls) == calls and not (project / "stepA" / "config-lock.yaml").exists()
