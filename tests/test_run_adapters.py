"""The run adapters (``platforms/clarifai/run.py``, ``platforms/pai/run.py``) and ``cancel`` through the real CLI
against the emulators: a reused Clarifai ``--run-id`` is refused instead of followed, PAI ``--manifest`` override
values are checked like lint checks the defaults, a PAI run has its console URL at start, relayed log lines never
show the CLI's credentials, and ``cancel --backend`` that contradicts the state file is a usage error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline_ci.platforms.clarifai import status
from pipeline_ci.platforms.pai.client import endpoint_for, region_of
from pipeline_ci.platforms.pai.run import console_url
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.pai_emulator import PaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import clarifai_env, run_cli, write_files
from .test_runs_pai import FAST, KEY_ID, SECRET, TOKEN
from .test_runs_pai import MANIFEST as PAI_MANIFEST

PAT = "pat-adapter-tests-secret-value"
CLARIFAI_FAST = ["--max-interval", "0.05", "--compute-cluster-id", "cc1", "--nodepool-id", "np1"]
PAI_FAST = FAST
MANIFEST = PAI_MANIFEST.replace("    - name: epochs\n", """\
    - name: threshold
      type: Double
      value: 0.5
      feasible:
        range: "[0, 1]"
    - name: epochs
""") + """\
    - name: note
      type: String
      value: "x"
"""


@pytest.fixture(scope="module")
def clarifai():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


@pytest.fixture(scope="module")
def deployed(clarifai, tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("run") / "proj", base_files())
    result = run_cli(["upload", "--backend", "clarifai", str(root)], clarifai_env(clarifai, root.parent, PAT),
                     timeout=120, secrets=(PAT,))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def pai():
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emu:
        yield emu


def pai_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_", "GITHUB_", "CLARIFAI_"))}
    env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
                "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN, "RUNNER_TEMP": str(tmp), **extra})
    return env


def pai_cli(emu: PaiEmulator, args: list[str], env: dict[str, str]):
    return run_cli(["run", "--backend", "pai", "--endpoint", emu.endpoint, *PAI_FAST, *args], env, timeout=120,
                   secrets=(SECRET, TOKEN))


def created(emu: PaiEmulator, before: int) -> list:
    return [r for r in emu.requests_seen[before:] if r.action == "CreatePipelineRun"]


# ------------------------------------------------------------------------------------------------------ Clarifai


def test_a_run_id_that_already_exists_is_refused_not_followed(clarifai, deployed, tmp_path):
    env = clarifai_env(clarifai, tmp_path, PAT)
    run = ["run", str(deployed), "--backend", "clarifai", *CLARIFAI_FAST, "--run-id", "nightly-42"]
    clarifai.script_run([(status.JOB_RUNNING, 1), (status.JOB_FAILED, 1)])
    first = run_cli([*run, "--set", "input_text=a"], env, timeout=120, secrets=(PAT,))
    assert first.returncode == 1, first.stdout + first.stderr  # a new given id starts a run
    clarifai.script_run([(status.JOB_RUNNING, 1), (status.JOB_COMPLETED, 1)])
    second = run_cli([*run, "--set", "input_text=b"], env, timeout=120, secrets=(PAT,))
    assert second.returncode == 2, second.stdout + second.stderr
    assert "run nightly-42 already exists" in second.stderr and "pipeline-ci watch nightly-42" in second.stderr
    assert "started run" not in second.stdout
    params = clarifai.runs["nightly-42"].input_args_override.argo_args_override.parameters
    assert [(p.name, p.value) for p in params] == [("input_text", "a")]  # the new parameters were not lost silently


def test_the_pat_is_masked_in_relayed_run_logs(clarifai, deployed, tmp_path):
    clarifai.script_run([(status.JOB_RUNNING, 1), (status.JOB_COMPLETED, 1)],
                        logs={status.JOB_RUNNING: [f"calling the API with Key {PAT} now"]})
    result = run_cli(["run", str(deployed), "--backend", "clarifai", *CLARIFAI_FAST], clarifai_env(clarifai, tmp_path, PAT),
                     timeout=120, secrets=(PAT,))  # fails if the PAT shows anywhere
    assert result.returncode == 0, result.stdout + result.stderr
    assert "calling the API with Key *** now" in result.stdout


# ----------------------------------------------------------------------------------------------------------- PAI


@pytest.mark.parametrize(("override", "message"), [
    ("threshold=5", "value '5' of parameter 'threshold' is outside its feasible.range [0, 1]"),
    ("threshold=-0.1", "value '-0.1' of parameter 'threshold' is outside its feasible.range [0, 1]"),
    ("epochs=abc", "value 'abc' of parameter 'epochs' does not fit its type Int"),
    ("epochs=2.5", "value '2.5' of parameter 'epochs' does not fit its type Int"),
])
def test_manifest_override_values_are_checked_like_the_defaults(pai, tmp_path, override, message):
    manifest = tmp_path / "pipeline.yaml"
    manifest.write_text(MANIFEST)
    before = len(pai.requests_seen)
    result = pai_cli(pai, ["--manifest", str(manifest), "--set", override], pai_env(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not created(pai, before)


def test_manifest_override_values_that_fit_are_sent(pai, tmp_path):
    manifest = tmp_path / "pipeline.yaml"
    manifest.write_text(MANIFEST)
    pai.script_run([("Running", 1), ("Succeeded", 1)])
    before = len(pai.requests_seen)
    result = pai_cli(pai, ["--manifest", str(manifest), "--set", "threshold=1", "--set", "epochs=4",
                           "--set", "note=5"], pai_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(created(pai, before)) == 1


def test_a_pai_run_has_its_console_url_at_start(pai, tmp_path):
    pai.script_run([("Running", 10**6)])
    outputs = tmp_path / "outputs"
    outputs.write_text("")
    result = pai_cli(pai, ["--pipeline-id", "pl-1", "--no-wait"], pai_env(tmp_path, GITHUB_OUTPUT=str(outputs)))
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = next(line.split("=", 1)[1] for line in outputs.read_text().splitlines() if line.startswith("run-id="))
    url = f"https://pai.console.aliyun.com/?workspaceId=ws-1#/studio/task/detail/{run_id}"
    assert f"started run {run_id} ({url})" in result.stdout
    assert f"run-url={url}" in outputs.read_text().splitlines()


def test_the_console_url_names_the_region_of_a_paiflow_endpoint():
    assert region_of(endpoint_for("cn-shanghai")) == "cn-shanghai"
    assert region_of(endpoint_for("cn-shanghai", vpc=True)) == "cn-shanghai"
    assert region_of("http://127.0.0.1:8080") is None
    assert console_url("flow-1", "24", "cn-shanghai") == (
        "https://pai.console.aliyun.com/?regionId=cn-shanghai&workspaceId=24#/studio/task/detail/flow-1")


def test_credentials_are_masked_in_relayed_node_logs(pai, tmp_path):
    pai.script_run([("Running", 1), ("Succeeded", 1)], node_logs={"train": [f"key={SECRET} token={TOKEN} ok"]})
    result = pai_cli(pai, ["--pipeline-id", "pl-1"], pai_env(tmp_path))  # fails if either shows anywhere
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[train] key=*** token=*** ok" in result.stdout


# -------------------------------------------------------------------------------------------------------- cancel


def test_cancel_with_a_backend_other_than_the_state_files_is_a_usage_error(tmp_path):
    (tmp_path / "pipeline-ci-run.json").write_text(json.dumps({
        "backend": "clarifai", "run_id": "run-7",
        "target": {"user_id": "u", "app_id": "a", "pipeline_id": "p", "version_id": "v"}}))
    result = run_cli(["cancel", "--backend", "pai"], pai_env(tmp_path), timeout=60, secrets=(SECRET, TOKEN))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--backend pai was given but the state file" in result.stderr and "run run-7 on clarifai" in result.stderr


def test_cancel_backend_clarifai_against_a_pai_state_file_is_refused_too(tmp_path):
    """The reviewer's case: ``--backend clarifai`` was the parser's default, so it could not be told from no flag
    and the PAI run of the state file was cancelled."""
    (tmp_path / "pipeline-ci-run.json").write_text(json.dumps({"backend": "pai", "run_id": "flow-1"}))
    result = run_cli(["cancel", "--backend", "clarifai"], pai_env(tmp_path), timeout=60, secrets=(SECRET, TOKEN))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--backend clarifai was given but the state file" in result.stderr and "flow-1 on pai" in result.stderr
