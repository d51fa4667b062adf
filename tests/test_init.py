"""`pipeline-ci init`: every built-in template lints clean and runs locally with exactly the command init prints;
nothing is overwritten without --force; ids are checked; the user id comes from the flag, then the environment or
the Clarifai CLI login."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline_ci.scaffold import TEMPLATES

from .conftest import run_cli

BIN = Path(sys.executable).parent / "pipeline-ci"


def cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    base["HOME"] = str(cwd)  # no Clarifai CLI config of the machine's
    return run_cli(args, {**base, **(env or {})}, cwd=cwd)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_lints_clean_and_the_printed_command_runs_it(tmp_path, template):
    created = cli(["init", "proj", "--template", template], tmp_path)
    assert created.returncode == 0, created.stderr
    nexts = [line for line in created.stdout.splitlines() if line.startswith("next: ")]
    assert len(nexts) == 1
    command = nexts[0][len("next: "):].replace("pipeline-ci ", f"{shlex.quote(str(BIN))} ")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no problems found in 1 project(s)" in done.stdout and " Succeeded in " in done.stdout
    config = yaml.safe_load((tmp_path / "proj" / "config.yaml").read_text())["pipeline"]
    assert config["id"] == "proj" and config["user_id"] == "demo-user" and config["app_id"] == "pipeline-app"
    assert "stand-in" in created.stdout
    if template == "training":
        assert "step_version_secrets" in (tmp_path / "proj" / "config.yaml").read_text()
        without = cli(["run", "proj", "--isolation", "none"], tmp_path)
        assert without.returncode == 2 and "TRACKING_TOKEN" in without.stdout + without.stderr


def test_never_overwrites_without_force(tmp_path):
    assert cli(["init", "p", "--template", "single"], tmp_path).returncode == 0
    step = tmp_path / "p" / "hello" / "1" / "pipeline_step.py"
    step.write_text("# my edits\n")
    again = cli(["init", "p", "--template", "single"], tmp_path)
    assert again.returncode == 2 and "already exist" in again.stderr and "nothing was written" in again.stderr
    assert "--force" in again.stderr and step.read_text() == "# my edits\n"
    other = cli(["init", "p", "--template", "dag"], tmp_path)  # partly new files: still all or nothing
    assert other.returncode == 2 and not (tmp_path / "p" / "split").exists()
    forced = cli(["init", "p", "--template", "single", "--force"], tmp_path)
    assert forced.returncode == 0 and "overwrote" in forced.stdout and "# my edits" not in step.read_text()


def test_ids_come_from_flags_or_the_environment_and_are_checked(tmp_path):
    flagged = cli(["init", "a", "--user-id", "alice", "--app-id", "ml", "--pipeline-id", "nightly"], tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    root = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())["pipeline"]
    assert (root["id"], root["user_id"], root["app_id"]) == ("nightly", "alice", "ml")
    assert "users/alice/apps/ml/pipeline_steps/split" in (tmp_path / "a" / "config.yaml").read_text()
    from_env = cli(["init", "b"], tmp_path, {"CLARIFAI_USER_ID": "bob"})
    assert "user id 'bob' from environment" in from_env.stdout
    bad = cli(["init", "Bad_Name!"], tmp_path)
    assert bad.returncode == 2 and "pipeline id 'bad-name!'" in bad.stderr and not (tmp_path / "Bad_Name!").exists()
    assert cli(["lint", "a", "b"], tmp_path).returncode == 0


def test_ci_github_writes_the_recommended_workflow_pinned_and_valid(tmp_path):
    from pipeline_ci import __version__

    from .test_action import ACTION, CANCEL_ACTION, actionlint_binary, tool

    repo = tmp_path / "repo"
    (repo / "pipes").mkdir(parents=True)
    outside = cli(["init", "--ci", "github", "pipes"], repo)
    assert outside.returncode == 2 and "not inside a git repository" in outside.stderr
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    written = cli(["init", "--ci", "github", "pipes"], repo)
    assert written.returncode == 0, written.stderr
    workflows = sorted(p.name for p in (repo / ".github" / "workflows").iterdir())
    assert workflows == ["pipeline-ci-pr.yml", "pipeline-ci-release.yml"]
    for name in workflows:
        text = (repo / ".github" / "workflows" / name).read_text()
        assert f"pipeline-ci/pipeline-ci@v{__version__}" in text and "0" * 40 not in text
        assert "path: pipes\n" in text and '"pipes/**"' in text and "pipelines" not in text
        assert "replace the zeros" not in text and "# Copy " not in text  # the examples' instructions, not ours
    release = yaml.safe_load((repo / ".github" / "workflows" / "pipeline-ci-release.yml").read_text())
    first = release["jobs"]["release"]["steps"][0]  # a dispatch on a tag has no branch to commit back to
    assert first["if"] == "${{ github.ref_type != 'branch' }}" and "exit 1" in first["run"]
    hooks = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    assert hooks["repos"][0]["rev"] == f"v{__version__}"
    assert "replace the zeros" not in (repo / ".pre-commit-config.yaml").read_text()
    check = subprocess.run([tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"], cwd=repo,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # actionlint, with our action next to the workflows so their inputs and outputs are checked too
    for name in workflows:
        path = repo / ".github" / "workflows" / name
        path.write_text(path.read_text().replace(f"pipeline-ci/pipeline-ci/cancel@v{__version__}", "./cancel")
                        .replace(f"pipeline-ci/pipeline-ci@v{__version__}", "./"))
    (repo / "action.yml").write_text(ACTION.read_text())
    (repo / "cancel").mkdir()
    (repo / "cancel" / "action.yml").write_text(CANCEL_ACTION.read_text())
    linted = subprocess.run([actionlint_binary(), "-no-color", "-shellcheck", "", "-pyflakes", ""], cwd=repo,
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    again = cli(["init", "--ci", "github", "pipes"], repo)
    assert again.returncode == 2 and "3 file(s) already exist" in again.stderr


def test_ids_are_what_lint_accepts_and_a_project_that_would_not_lint_is_refused(tmp_path):
    # Clarifai's docs create apps such as `test_app` (https://docs.clarifai.com/python-sdk/create-apps); lint accepts them
    ok = cli(["init", "k", "--app-id", "test_app", "--pipeline-id", "My_Pipe", "--template", "single"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    env_user = cli(["init", "k2", "--template", "single"], tmp_path, {"CLARIFAI_USER_ID": "john_doe"})
    assert env_user.returncode == 0, env_user.stderr
    numeric = cli(["init", "k3", "--app-id", "123", "--user-id", "a #b", "--template", "single"], tmp_path)
    assert numeric.returncode == 0, numeric.stderr  # written quoted: the ids load back as the strings given
    root = yaml.safe_load((tmp_path / "k" / "config.yaml").read_text())["pipeline"]
    assert (root["id"], root["app_id"]) == ("My_Pipe", "test_app")
    assert "generateName: my-pipe-" in (tmp_path / "k" / "config.yaml").read_text()
    assert yaml.safe_load((tmp_path / "k2" / "hello" / "config.yaml").read_text())["pipeline_step"]["user_id"] == "john_doe"
    third = yaml.safe_load((tmp_path / "k3" / "config.yaml").read_text())["pipeline"]
    assert (third["user_id"], third["app_id"]) == ("a #b", "123")
    linted = cli(["lint", "k", "k2", "k3"], tmp_path)
    assert linted.returncode == 0 and "no problems found in 3 project(s)" in linted.stdout, linted.stdout
    for args, why in ((["--app-id", "a/b"], "[A36]"), (["--app-id", ""], "[S01]"), (["--app-id", "your-app"], "[C01]")):
        refused = cli(["init", "bad", "--template", "single", *args], tmp_path)
        assert refused.returncode == 2 and why in refused.stderr and "would not lint" in refused.stderr, refused.stderr
        assert "--app-id" in refused.stderr and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("folder", ["my pipes", 'a"b', "x: #y", "p[1]", "-p"])
def test_ci_github_refuses_a_folder_the_workflows_cannot_name(tmp_path, folder):
    """The folder goes unquoted into YAML, the action's whitespace-separated ``path`` input and a ``paths:`` glob:
    one it would break is refused (exit 2) and nothing is written (before: a space ran ``lint my pipes``, a quote
    wrote workflows that were not YAML)."""
    repo = tmp_path / "repo"
    (repo / folder).mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    refused = cli(["init", "--ci", "github", "--", folder], repo)
    assert refused.returncode == 2 and "the workflows can only name a folder of" in refused.stderr, refused.stderr
    assert not (repo / ".github").exists() and not (repo / ".pre-commit-config.yaml").exists()
