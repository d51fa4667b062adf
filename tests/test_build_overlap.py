"""Independent step builds overlap (``pipeline_ci.builds``) and still report per step, in plan order.

The real CLI (`pipeline-ci upload --backend clarifai`) against the gRPC Clarifai emulator
(:mod:`pipeline_ci.testing.clarifai_emulator`), whose ``build_polls`` makes each build take time: the client polls a
building version with a 0.5-1 s, then 0.75-1.5 s delay (``Backoff(1, 1.5, 10)`` with jitter), so with two polls a
build takes at least 1.25 s and four of them one after the other at least 5 s. The project is the base project of
:mod:`pipeline_ci.testing.projects` with four steps instead of two.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline_ci.testing import projects
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator

from .conftest import write_files

PAT = "pat-build-overlap-0123456789"
STEPS = ("stepA", "stepB", "stepC", "stepD")


def step_files(steps: tuple[str, ...] = STEPS) -> dict[str, str]:
    """The base project with ``steps`` (one Argo step each, all in one parallel group)."""
    group = "".join(f"""\
      - name: {step.lower()}
        templateRef:
          name: users/u1/apps/a1/pipeline_steps/{step}
          template: users/u1/apps/a1/pipeline_steps/{step}
        arguments:
          parameters:
          - name: input_text
            value: "{{{{workflow.parameters.input_text}}}}"
""" for step in steps)
    spec = projects.BASE_SPEC.split("  - name: main\n")[0] + "  - name: main\n    steps:\n    -" + group[5:]
    root = projects.root_config(spec).replace("  - stepA\n  - stepB\n", "".join(f"  - {s}\n" for s in steps))
    files = {"config.yaml": root}
    for step in steps:
        files[f"{step}/config.yaml"] = projects.STEP_TEMPLATE.format(step=step)
        files[f"{step}/requirements.txt"] = "# standard library only\n"
        files[f"{step}/1/pipeline_step.py"] = projects.SCRIPT
    return files


def environment(emu: ClarifaiEmulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "PIPELINE_CI_", "GITHUB_"))}
    return {**env, "CLARIFAI_API_BASE": f"http://{emu.address}", "CLARIFAI_PAT": PAT, "PYTHONUNBUFFERED": "1",
            "PIPELINE_CI_NO_CACHE": "1", **extra}


def upload_timed(root: Path, emu: ClarifaiEmulator, **env: str) -> tuple[int, list[tuple[float, str]], str]:
    """Run ``pipeline-ci upload --backend clarifai ROOT``; (exit code, stdout lines with the time each arrived,
    stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", "upload", "--backend", "clarifai", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(emu, **env))
    assert proc.stdout is not None and proc.stderr is not None
    lines = [(time.monotonic(), line.rstrip("\n")) for line in proc.stdout]
    err = proc.stderr.read()
    code = proc.wait(timeout=60)
    assert PAT not in err + "".join(line for _, line in lines)
    assert "internal error" not in err, err
    return code, lines, err


def first(lines: list[tuple[float, str]], text: str) -> int:
    return next(i for i, (_, line) in enumerate(lines) if text in line)


def sending(lines: list[tuple[float, str]], step: str) -> int:
    """The index of ``<step>: uploading <n> bytes as version <id>``."""
    return next(i for i, (_, line) in enumerate(lines)
                if line.startswith(f"{step}: uploading ") and " bytes as version " in line)


def lock(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "proj", step_files())


def test_four_builds_overlap_and_report_per_step_in_plan_order(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=2) as emu:
        code, lines, err = upload_timed(project, emu)
        ready = {v.pipeline_step.id: v.id for v in emu.step_versions if v.status.description == "PIPELINE_STEP_READY"}
    text = [line for _, line in lines]
    assert code == 0, "\n".join(text) + err
    sent = [sending(lines, step) for step in STEPS]
    built = [first(lines, f"{step}: version {ready[step]} is ready") for step in STEPS]
    # every upload went out before any build ended: the four builds were in flight at once (one after the other,
    # each build would end before the next upload; an order, unlike a stopwatch, a busy machine cannot upset)
    assert max(sent) < min(built)
    for step in STEPS:  # every line about a step says which step (per-step lines)
        assert f"  [build {step}] Building image for {step}" in text
        assert lock(project / step / "config-lock.yaml")["id"] == ready[step]
    summary = next(line for line in text if "uploaded 4 step(s)" in line)
    assert summary.index("stepA=") < summary.index("stepB=") < summary.index("stepC=") < summary.index("stepD=")
    assert lock(project / "config-lock.yaml")["pipeline"]["version_id"]


def test_a_failed_build_lets_the_others_finish_then_fails_naming_it(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        emu.build_outcome("stepB", log_lines=["ERROR: no matching distribution for nope==1"])
        code, lines, err = upload_timed(project, emu)
        ready = {v.pipeline_step.id: v.id for v in emu.step_versions if v.status.description == "PIPELINE_STEP_READY"}
        assert not emu.pipeline_versions  # nothing pins a step that did not build
    assert code == 1, err  # a build failure, as without overlap
    assert "stepB: build of version" in err and "failed" in err and "no matching distribution" in err
    assert set(ready) == {"stepA", "stepC", "stepD"}
    for step in ("stepA", "stepC", "stepD"):  # the others finished and were pinned
        assert lock(project / step / "config-lock.yaml")["id"] == ready[step]
    assert not (project / "stepB" / "config-lock.yaml").exists()
    assert not (project / "config-lock.yaml").exists()  # the root lockfile comes last, and not after a failure


def test_two_failed_builds_are_named_together_and_a_rerun_completes(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        emu.build_outcome("stepB", log_lines=["ERROR: b broke"])
        emu.build_outcome("stepD", log_lines=["ERROR: d broke"])
        code, lines, err = upload_timed(project, emu)
        assert code == 1, err
        assert "2 steps failed (stepB, stepD)" in err
        assert "[stepB] ERROR: b broke" in err and "[stepD] ERROR: d broke" in err
        assert (project / "stepA" / "config-lock.yaml").exists() and (project / "stepC" / "config-lock.yaml").exists()
        again, lines, err = upload_timed(project, emu)  # the builds work now: only the failed steps are uploaded
        assert again == 0, err
        text = "\n".join(line for _, line in lines)
        assert "uploaded 2 step(s) (stepB=" in text and "stepD=" in text and "reused 2" in text
        assert lock(project / "config-lock.yaml")["pipeline"]["version_id"] == emu.pipeline_versions[-1].id


def test_a_bad_concurrency_setting_is_a_usage_error(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:
        code, lines, err = upload_timed(project, emu, PIPELINE_CI_BUILD_CONCURRENCY="0")
        assert not emu.uploads
    assert code == 2 and "PIPELINE_CI_BUILD_CONCURRENCY must be a whole number of at least 1" in err


def test_one_at_a_time_when_asked(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:
        code, lines, err = upload_timed(project, emu, PIPELINE_CI_BUILD_CONCURRENCY="1")
    assert code == 0, err
    for before, after in zip(STEPS, STEPS[1:], strict=False):  # each step is ready before the next one is sent
        assert first(lines, f"{before}: version ") < sending(lines, after)


def test_a_pin_missing_on_the_platform_is_one_line_that_says_why_the_step_is_uploaded(project: Path):
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:
        assert upload_timed(project, emu)[0] == 0
    pinned = lock(project / "stepA" / "config-lock.yaml")["id"]
    with ClarifaiEmulator({PAT}, build_polls=0) as other:  # another account: none of the pins exists there
        code, lines, err = upload_timed(project, other)
    assert code == 0, err
    text = [line for _, line in lines]
    assert f"stepA: uploading (its pinned version {pinned} is not on clarifai)" in text
    assert not any("uploading (unchanged)" in line or "not available" in line for line in text), text
    assert any(line.startswith("pipeline: its pinned version ") for line in text)
