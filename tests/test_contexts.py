"""Clarifai credentials from the environment first, then the Clarifai CLI config (``clarifai login``'s
``~/.config/clarifai/config``, named contexts): unit cases for the precedence and the errors, and the real CLI
against the gRPC emulator with no ``CLARIFAI_PAT`` in the environment. The PAT's value never appears in output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline_ci.errors import UsageError
from pipeline_ci.platforms.clarifai import contexts, status
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import run_cli, write_files

PAT = "pat-from-the-clarifai-config-secret"


def write_config(home: Path, data: object) -> Path:
    path = home / ".config" / "clarifai" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_environment_wins_then_the_current_context(tmp_path):
    path = write_config(tmp_path, {"current_context": "prod", "contexts": {
        "prod": {"CLARIFAI_PAT": "ctx-pat", "CLARIFAI_USER_ID": "alice", "api_base": "https://ctx.example"},
        "dev": {"env": {"CLARIFAI_PAT": "dev-pat"}}}})
    resolved = contexts.resolve({"HOME": str(tmp_path), "CLARIFAI_PAT": "env-pat"})
    assert resolved.env["CLARIFAI_PAT"] == "env-pat" and resolved.sources["CLARIFAI_PAT"] == "environment"
    assert resolved.env["CLARIFAI_USER_ID"] == "alice" and resolved.env["CLARIFAI_API_BASE"] == "https://ctx.example"
    assert resolved.sources["CLARIFAI_USER_ID"] == f"context 'prod' of {path}"
    line = contexts.describe(resolved)
    assert "PAT from environment" in line and "user id from context 'prod'" in line and "ctx-pat" not in line
    chosen = contexts.resolve({"HOME": str(tmp_path)}, "dev")
    assert chosen.env["CLARIFAI_PAT"] == "dev-pat" and "CLARIFAI_USER_ID" not in chosen.env


def test_envvar_placeholder_and_errors_name_the_file(tmp_path):
    path = write_config(tmp_path, {"current_context": "a", "contexts": {"a": {"CLARIFAI_PAT": "ENVVAR"}}})
    with pytest.raises(UsageError, match="ENVVAR but CLARIFAI_PAT is not set"):
        contexts.resolve({"HOME": str(tmp_path)})
    with pytest.raises(UsageError, match=r"no context 'b' \(contexts: a\)"):
        contexts.resolve({"HOME": str(tmp_path)}, "b")
    path.write_text("current_context: a\ncontexts: [\n")
    with pytest.raises(UsageError, match=r"config:3:1: the Clarifai CLI config is not valid YAML"):
        contexts.resolve({"HOME": str(tmp_path)})
    path.write_text("just text\n")
    with pytest.raises(UsageError, match="no `contexts` mapping"):
        contexts.resolve({"HOME": str(tmp_path)})


def test_no_config_file_is_fine_unless_a_context_is_asked_for(tmp_path):
    assert contexts.resolve({"HOME": str(tmp_path)}).sources == {}
    with pytest.raises(UsageError, match="--context x: no Clarifai CLI config"):
        contexts.resolve({"HOME": str(tmp_path)}, "x")
    write_config(tmp_path, {"current_context": "_empty_", "contexts": {}})  # what the SDK writes before a login
    assert contexts.resolve({"HOME": str(tmp_path)}).sources == {}


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_cli(args, env, timeout=120, secrets=(PAT,))


def test_cli_uses_the_clarifai_login_context(emulator, tmp_path):
    home = tmp_path / "home"
    root = write_files(tmp_path / "proj", base_files())
    user = yaml.safe_load((root / "config.yaml").read_text())["pipeline"]["user_id"]
    write_config(home, {"current_context": "ci", "contexts": {
        "ci": {"CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": f"http://{emulator.address}", "CLARIFAI_USER_ID": user},
        "other": {"CLARIFAI_PAT": "not-a-valid-pat", "CLARIFAI_API_BASE": f"http://{emulator.address}"}}})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    env.update({"HOME": str(home), "RUNNER_TEMP": str(tmp_path)})
    uploaded = cli(["upload", "--backend", "clarifai", str(root)], env)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "PAT from context 'ci'" in uploaded.stderr and "API base from context 'ci'" in uploaded.stderr
    refused = cli(["upload", "--backend", "clarifai", str(root), "--context", "other", "--dry-run"], env)
    assert "not-a-valid-pat" not in refused.stdout + refused.stderr
    assert "PAT from context 'other'" in refused.stderr  # --context picked the other PAT, which the API rejects
    assert refused.returncode == 3 and "rejected CLARIFAI_PAT" in refused.stdout + refused.stderr
    lock = yaml.safe_load((root / "config-lock.yaml").read_text())["pipeline"]
    emulator.script_run([(status.JOB_RUNNING, 50)])
    started = cli(["run", str(root), "--backend", "clarifai", "--no-wait", "--compute-cluster-id", "cc1",
                   "--nodepool-id", "np1"], env)
    assert started.returncode == 0, started.stdout + started.stderr
    run_id = json.loads((tmp_path / "pipeline-ci-run.json").read_text())["run_id"]
    # no project and no --user-id: the user id comes from the context
    cancelled = cli(["cancel", run_id, "--app-id", lock["app_id"], "--pipeline-id", lock["id"],
                     "--pipeline-version-id", lock["version_id"]], {**env, "HOME": str(home)})
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert "user_id: from CLARIFAI_USER_ID" in cancelled.stdout
    assert emulator._runs[run_id].code == status.JOB_CANCELLED
    broken = write_config(home, "contexts: [\n")
    bad = cli(["upload", "--backend", "clarifai", str(root)], env)
    assert bad.returncode == 2 and f"{broken}:2:1" in bad.stderr and "Traceback" not in bad.stderr
