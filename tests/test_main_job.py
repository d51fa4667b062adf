"""The README's main job reads like a story: what was linted, what was uploaded (or reused, and why), what ran,
where the logs and the run record are, and the verdict, in that order, with no line contradicting another.

The command is the README's own (``REPORT_TOKEN=demo-token pipeline-ci deploy examples/hello-pipeline --backend
local --run``), run by the real CLI on a copy of ``examples/hello-pipeline`` in a temporary git repository (as in a
clone of this one): a first run, a second run (everything reused), and a run after a step was edited.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

STEPS = ("prepare", "analyze", "report")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                   capture_output=True, timeout=30)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A repository holding a fresh copy of the example at ``examples/hello-pipeline`` (no local store)."""
    shutil.copytree(REPO / "examples" / "hello-pipeline", tmp_path / "examples" / "hello-pipeline",
                    ignore=shutil.ignore_patterns(".pipeline-ci", "__pycache__"))
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "example")
    return tmp_path


def main_job(clone: Path) -> list[str]:
    """The README's first command, from the repository root; its stdout lines (it must succeed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_CI_", "GITHUB_", "CLARIFAI_"))}
    env.update(REPORT_TOKEN="demo-token", PIPELINE_CI_NO_CACHE="1")
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "deploy", "examples/hello-pipeline", "--backend",
                             "local", "--run"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo-token" not in result.stdout + result.stderr
    return result.stdout.splitlines()


def in_order(lines: list[str], *patterns: str) -> list[re.Match[str]]:
    """Each pattern matches a whole line, after the line the previous one matched."""
    found, start = [], 0
    for pattern in patterns:
        for index in range(start, len(lines)):
            match = re.fullmatch(pattern, lines[index])
            if match:
                found.append(match)
                start = index + 1
                break
        else:
            raise AssertionError(f"no line matching {pattern!r} after line {start}:\n" + "\n".join(lines))
    return found


def no_contradiction(lines: list[str]) -> None:
    """No step is both stored and reused, no reused step is said to be missing, nothing is uploaded "unchanged"."""
    for step in STEPS:
        stored = any(line.startswith(f"stored {step} version ") for line in lines)
        reused = any(line.startswith(f"{step}: version ") and "reusing it" in line for line in lines)
        assert not (stored and reused), (step, lines)
    assert not any("not available on" in line or "uploading (unchanged)" in line for line in lines), lines
    assert not any("is not on local" in line for line in lines), lines


VERSION = "[0-9a-f]{32}"
RUN = r"run (\S+): workflow (hello-pipeline-\w+), logs in (\S+)"


def test_the_main_job_tells_what_it_linted_stored_ran_where_the_logs_are_and_the_verdict(clone: Path):
    lines = main_job(clone)
    found = in_order(
        lines,
        r"lint: no problems found in 1 project\(s\) \(examples/hello-pipeline\)",  # said even when lint passes
        *(rf"stored {step} version {VERSION} \(\d+ files, \d+ bytes\)" for step in STEPS),
        r"stored pipeline version pv-[0-9a-f]{16}",
        rf"examples/hello-pipeline: uploaded 3 step\(s\) \(prepare={VERSION}, analyze={VERSION}, report={VERSION}\), "
        r"reused 0; new pipeline version pv-[0-9a-f]{16}",
        RUN,
        r"\[prepare\] started \(prepare\)",
        r"\[report\] Succeeded in [\d.]+s",
        r"report\s+Succeeded\s.*",  # the node table
        r"workflow hello-pipeline-\w+ Succeeded in [\d.]+s",  # the verdict
        r"run record: (\S+)",
    )
    run = found[6]
    logs, record = Path(run.group(3)), Path(found[-1].group(1))
    assert logs.is_dir() and any(logs.iterdir()) and record.is_file()
    assert run.group(1) in str(record)  # the record is the run's
    no_contradiction(lines)
    assert not subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True,
                              check=True).stdout  # the local backend writes no committed file


def test_a_second_run_says_what_it_reused_and_why_then_an_edited_step_is_named_and_stored(clone: Path):
    main_job(clone)
    lines = main_job(clone)
    in_order(
        lines,
        r"lint: no problems found in 1 project\(s\) \(examples/hello-pipeline\)",
        *(rf"{step}: version {VERSION} is already in the local store \(same content\); reusing it" for step in STEPS),
        r"examples/hello-pipeline: uploaded 0 step\(s\) \(none\), reused 3 \(already in the local store: prepare, "
        r"analyze, report\); pipeline unchanged \(version pv-[0-9a-f]{16}\)",
        RUN,
        r"workflow hello-pipeline-\w+ Succeeded in [\d.]+s",
        r"run record: \S+",
    )
    assert not any(line.startswith("stored ") for line in lines)
    no_contradiction(lines)

    script = clone / "examples" / "hello-pipeline" / "prepare" / "1" / "pipeline_step.py"
    script.write_text(script.read_text() + "\n# edited\n")
    lines = main_job(clone)
    in_order(
        lines,
        r"lint: .*",
        r"prepare: differs from its lockfile \(content changed\); running the working tree",
        rf"stored prepare version {VERSION} .*",
        rf"analyze: version {VERSION} is already in the local store \(same content\); reusing it",
        rf"report: version {VERSION} is already in the local store \(same content\); reusing it",
        r"stored pipeline version pv-[0-9a-f]{16}",
        rf"examples/hello-pipeline: uploaded 1 step\(s\) \(prepare={VERSION}\), reused 2 .*; new pipeline version .*",
        RUN,
        r"workflow hello-pipeline-\w+ Succeeded in [\d.]+s",
    )
    no_contradiction(lines)
