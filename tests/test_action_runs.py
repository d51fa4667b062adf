"""The action's run step (pipeline_ci/data/action_run.sh) in a simulated runner: temporary
GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE / GITHUB_EVENT_PATH files, against the local
backend, the Clarifai emulator and real git events; SIGINT to the process cancels the remote run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import REPO, write_files

SCRIPT = REPO / "pipeline_ci" / "data" / "action_run.sh"
PAT = "pat-action-runner-secret"
RUNNING, COMPLETED, CANCELLED = 64001, 64002, 64004


class Runner:
    """The files and variables a GitHub-hosted runner gives a step."""

    def __init__(self, tmp: Path, event_name: str = "workflow_dispatch", event: dict | None = None):
        self.tmp = tmp
        self.temp = tmp / "runner-temp"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.files = {name: tmp / f"{name}.txt" for name in ("output", "summary", "state")}
        for path in self.files.values():
            path.write_text("")
        event_path = tmp / "event.json"
        event_path.write_text(json.dumps(event or {}))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CLARIFAI_"))}
        self.env.update({
            "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(self.temp), "GITHUB_OUTPUT": str(self.files["output"]),
            "GITHUB_STEP_SUMMARY": str(self.files["summary"]), "GITHUB_STATE": str(self.files["state"]),
            "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), "PCI_PYTHON": sys.executable,
        })

    def step(self, cwd: Path, **inputs: str) -> subprocess.Popen:
        env = {**self.env, **{f"PCI_{k.upper()}": v for k, v in inputs.items() if k.islower()},
               **{k: v for k, v in inputs.items() if k.isupper()}}
        return subprocess.Popen(["bash", str(SCRIPT)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def run(self, cwd: Path, **inputs: str) -> tuple[int, str]:
        proc = self.step(cwd, **inputs)
        out, _ = proc.communicate(timeout=300)
        return proc.returncode, out

    def outputs(self) -> dict[str, str]:
        out, lines, i = {}, self.files["output"].read_text().splitlines(), 0
        while i < len(lines):
            if "<<" in lines[i] and "=" not in lines[i].split("<<")[0]:
                name, delim = lines[i].split("<<", 1)
                end = lines.index(delim, i + 1)
                out[name] = "\n".join(lines[i + 1:end])
                i = end + 1
            else:
                name, _, value = lines[i].partition("=")
                out[name] = value
                i += 1
        return out


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}) as emu:
        yield emu


@pytest.fixture
def clarifai_project(emulator, tmp_path: Path) -> Path:
    root = write_files(tmp_path / "proj", base_files())
    env = {**os.environ, "CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": f"http://{emulator.address}"}
    subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", "--backend", "clarifai", str(root)], env=env,
                   check=True, capture_output=True)
    return root


def test_clarifai_run_step_sets_outputs_summary_and_masks_the_pat(emulator, clarifai_project, tmp_path):
    emulator.script_run([(RUNNING, 1), (COMPLETED, 1)], logs={RUNNING: ["::error::injected by a step log"]})
    runner = Runner(tmp_path)
    code, out = runner.run(clarifai_project, command="run", path=str(clarifai_project), backend="clarifai",
                           compute_cluster_id="cc", nodepool_id="np", set="input_text=hello",
                           extra_args="--max-interval 0.2", CLARIFAI_PAT=PAT,
                           CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    lines = out.splitlines()
    mask = lines.index(f"::add-mask::{PAT}")
    first_output = next(i for i, line in enumerate(lines) if line.strip().startswith("user_id: from"))
    assert mask < first_output  # registered before pipeline-ci prints anything
    assert PAT not in "\n".join(lines[:mask] + lines[mask + 1:])
    stop = next(line for line in lines if line.startswith("::stop-commands::"))
    token = stop.split("::")[2]
    injected = lines.index("::error::injected by a step log")
    assert lines.index(stop) < injected < lines.index(f"::{token}::")
    outputs = runner.outputs()
    run_id = list(emulator.runs)[-1]
    assert outputs["run-id"] == run_id and outputs["status"] == "succeeded" and run_id in outputs["run-url"]
    assert run_id in runner.files["summary"].read_text() and "succeeded" in runner.files["summary"].read_text()
    assert f"run-id={run_id}" in runner.files["state"].read_text()


def test_sigint_to_the_run_step_cancels_the_remote_run(emulator, clarifai_project, tmp_path):
    emulator.script_run([(RUNNING, 100_000)])
    before = set(emulator.runs)
    runner = Runner(tmp_path)
    proc = runner.step(clarifai_project, command="run", path=str(clarifai_project), backend="clarifai",
                       compute_cluster_id="cc", nodepool_id="np", extra_args="--max-interval 0.2",
                       CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    deadline = time.monotonic() + 30
    while not set(emulator.runs) - before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [run_id] = set(emulator.runs) - before
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)  # what the runner sends first on cancellation
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5, out
    assert time.monotonic() - sent < 7.5  # inside the runner's SIGINT -> SIGTERM window
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED
    assert runner.outputs()["status"] == "cancelled"


def test_cancelled_companion_step_cancels_from_the_state_file(emulator, clarifai_project, tmp_path):
    emulator.script_run([(RUNNING, 100_000)])
    runner = Runner(tmp_path)
    code, out = runner.run(clarifai_project, command="run", path=str(clarifai_project), backend="clarifai",
                           compute_cluster_id="cc", nodepool_id="np", extra_args="--no-wait",
                           CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    run_id = runner.outputs()["run-id"]
    env = {**runner.env, "CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": f"http://{emulator.address}"}
    companion = subprocess.run([sys.executable, "-m", "pipeline_ci", "cancel", "--backend", "clarifai"], env=env,
                               capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert companion.returncode == 0, companion.stdout + companion.stderr
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED


def test_local_deploy_and_run_step(tmp_path):
    hello = Path(shutil.copytree(REPO / "examples" / "hello-pipeline", tmp_path / "hello"))
    runner = Runner(tmp_path)
    code, out = runner.run(tmp_path, command="deploy", path=str(hello), backend="local",
                           extra_args="--run --isolation none", REPORT_TOKEN="demo-secret-token")
    assert code == 0, out
    outputs = runner.outputs()
    pins = list((hello / ".pipeline-ci" / "store" / "locks" / "pipelines").rglob("*.yaml"))  # local pins, not lockfiles
    assert outputs["pipeline-version-id"] and [p.stem for p in pins] == [outputs["pipeline-version-id"]]
    assert outputs["status"] == "succeeded" and outputs["run-id"]
    summary = runner.files["summary"].read_text()
    assert "pipeline-ci deploy" in summary and "| prepare |" in summary
    assert "pipeline-ci local run" in summary and "| report |" in summary or "report" in summary


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("event_name", ["push", "pull_request"])
def test_changed_step_with_push_and_pull_request_events(tmp_path, event_name):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "hello-pipeline", repo / "hello")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    git(repo, "checkout", "-qb", "feature")
    step = repo / "hello" / "report" / "1" / "pipeline_step.py"
    step.write_text(step.read_text() + "\n# changed\n")
    before = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-qam", "change report")
    event = ({"before": before, "ref": "refs/heads/feature", "repository": {"default_branch": "main"}}
             if event_name == "push" else {"pull_request": {"base": {"ref": "main", "sha": git(repo, "rev-parse",
                                                                                                "main")}}})
    runner = Runner(tmp_path / "runner", event_name, event)
    code, out = runner.run(repo, command="changed", path="hello")
    assert code == 0, out
    outputs = runner.outputs()
    assert outputs["changed"] == "true"
    assert [s["step_id"] for s in json.loads(outputs["steps"])] == ["report"]
    assert json.loads(outputs["matrix"])["include"][0]["path"] == "report"
    assert "report" in runner.files["summary"].read_text()


# --- issue 15: one-step deploy --run, the cancel sub-action, working-directory, the lockfiles output -------------

CANCEL_ACTION = REPO / "cancel" / "action.yml"


def cancel_companion(runner: Runner, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """The run step of cancel/action.yml, as the runner executes it (bash, the job's env)."""
    import yaml

    (step,) = yaml.safe_load(CANCEL_ACTION.read_text())["runs"]["steps"]
    return subprocess.run(["bash", "-c", step["run"]], cwd=cwd, env={**runner.env, **env}, capture_output=True,
                          text=True, timeout=60)


def test_deploy_run_in_one_step_gates_on_the_run_and_sets_outputs_either_way(emulator, tmp_path):
    """`command: deploy` + `extra-args: --run`: upload, run, and the failed run is the step's failure (exit 1), with
    status, run-id, run-url, pipeline-version-id and lockfiles set."""
    write_files(tmp_path / "ws" / "proj", base_files())
    emulator.script_run([(RUNNING, 1), (64003, 1)])  # JOB_FAILED
    runner = Runner(tmp_path)
    runner.env["GITHUB_WORKSPACE"] = str(tmp_path / "ws")
    code, out = runner.run(tmp_path / "ws", command="deploy", path="proj", backend="clarifai",
                           compute_cluster_id="cc", nodepool_id="np", extra_args="--run --max-interval 0.2",
                           CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 1, out
    outputs = runner.outputs()
    run_id = list(emulator.runs)[-1]
    assert outputs["status"] == "failed" and outputs["run-id"] == run_id and run_id in outputs["run-url"]
    assert outputs["pipeline-version-id"] == emulator.pipeline_versions[-1].id
    assert json.loads(outputs["lockfiles"]) == ["proj/config-lock.yaml", "proj/stepA/config-lock.yaml",
                                                "proj/stepB/config-lock.yaml"]
    emulator.script_run([(RUNNING, 1), (COMPLETED, 1)])
    runner = Runner(tmp_path / "again")
    code, out = runner.run(tmp_path / "ws", command="deploy", path="proj", backend="clarifai",
                           compute_cluster_id="cc", nodepool_id="np", extra_args="--run --max-interval 0.2",
                           CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    outputs = runner.outputs()
    assert outputs["status"] == "succeeded" and outputs["lockfiles"] == "[]"  # nothing changed: nothing written
    assert outputs["pipeline-version-id"] == emulator.pipeline_versions[-1].id


def test_cancel_sub_action_cancels_the_run_of_the_job(emulator, clarifai_project, tmp_path):
    emulator.script_run([(RUNNING, 100_000)])
    runner = Runner(tmp_path)
    nothing = cancel_companion(runner, tmp_path, CLARIFAI_PAT=PAT)
    assert nothing.returncode == 0 and "no run was started in this job" in nothing.stdout
    code, out = runner.run(clarifai_project, command="run", path=str(clarifai_project), backend="clarifai",
                           compute_cluster_id="cc", nodepool_id="np", extra_args="--no-wait",
                           CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    run_id = runner.outputs()["run-id"]
    assert emulator.runs[run_id].orchestration_status.status.code == RUNNING
    # No inputs: the backend and the run come from the state file, the PAT from the job's env.
    done = cancel_companion(runner, tmp_path, CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED
    assert PAT not in (done.stdout + done.stderr).replace(f"::add-mask::{PAT}\n", "")  # only ever masked
    # Cancelling is idempotent: the job cancelled after the run had ended (here: already cancelled) is not an error.
    again = cancel_companion(runner, tmp_path, CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert again.returncode == 0 and f"run {run_id} already ended (JOB_CANCELLED): nothing to cancel" in again.stdout
    broken = cancel_companion(runner, tmp_path, PCI_PYTHON=str(tmp_path / "no-python"))
    assert broken.returncode == 2 and "pipeline-ci is not installed" in broken.stdout


def test_upload_with_working_directory_reports_lockfiles_relative_to_the_workspace(emulator, tmp_path):
    workspace = tmp_path / "ws"
    write_files(workspace / "sub" / "pipelines" / "p", base_files())
    runner = Runner(tmp_path)
    runner.env["GITHUB_WORKSPACE"] = str(workspace)
    code, out = runner.run(workspace, command="upload", path="pipelines", backend="clarifai",
                           working_directory="sub", CLARIFAI_PAT=PAT, CLARIFAI_API_BASE=f"http://{emulator.address}")
    assert code == 0, out
    assert json.loads(runner.outputs()["lockfiles"]) == [
        "sub/pipelines/p/config-lock.yaml", "sub/pipelines/p/stepA/config-lock.yaml",
        "sub/pipelines/p/stepB/config-lock.yaml"]
    dry = Runner(tmp_path / "dry")
    code, out = dry.run(workspace / "sub", command="upload", path="pipelines", backend="clarifai",
                        extra_args="--dry-run")
    assert code == 0, out
    assert dry.outputs()["lockfiles"] == "[]"
