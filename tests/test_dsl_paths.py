"""Which paths `lint` treats as Python-defined (DSL) pipelines, without the SDK: a `.py` file that the settings'
`dsl:` names is compiled like `lint .` compiles it (even when it only says `from clarifai import runners`), ordinary
`.py` files are skipped by a cheap test, and the `pipeline-ci-lint` pre-commit hook passes `.py` files to lint."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from pipeline_ci.dsl import may_name_dsl

from .conftest import REPO, run_cli

PIPELINE = 'from clarifai import runners\np = runners.pipelines.Pipeline("text")\n'


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_", "PIPELINE_CI_"))}
    return {**env, "PIPELINE_CI_NO_CACHE": "1"}


def _dsl_repo(root: Path) -> Path:
    (root / "pipelines").mkdir(parents=True)
    (root / ".pipeline-ci.yaml").write_text("dsl: pipelines/text.py\n")
    (root / "pipelines" / "text.py").write_text(PIPELINE)
    (root / "pipelines" / "helper.py").write_text("print('not a pipeline')\n")
    return root


def test_a_python_file_named_by_the_settings_is_linted_like_the_folder(tmp_path):
    root = _dsl_repo(tmp_path)
    folder = run_cli(["lint", "."], _env(), cwd=root)
    file = run_cli(["lint", "pipelines/text.py"], _env(), cwd=root)
    assert folder.returncode != 0 and "text.py" in folder.stderr  # this venv has no SDK: compiling it fails (exit 2)
    assert (file.returncode, file.stderr) == (folder.returncode, folder.stderr)
    assert "0 project(s)" not in file.stdout
    other = run_cli(["lint", "pipelines/helper.py"], _env(), cwd=root)  # not named, not a pipeline: nothing to lint
    assert other.returncode == 0 and "no problems found in 0 project(s)" in other.stdout, other.stderr


def test_the_fast_path_reads_settings_only_where_they_may_name_a_pipeline(tmp_path):
    root = _dsl_repo(tmp_path / "dsl")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".pipeline-ci.yaml").write_text("strict: true\n")
    (plain / "tool.py").write_text("import os\n")
    assert may_name_dsl([root / "pipelines" / "text.py"])
    assert may_name_dsl([plain / "tool.py", root / "pipelines" / "helper.py"])  # over-approximation: names_dsl decides
    assert not may_name_dsl([plain / "tool.py"])
    assert not may_name_dsl([plain / "missing.py"])
    (plain / "sdk.py").write_text("import clarifai.runners.pipelines\n")
    assert may_name_dsl([plain / "sdk.py"])


def _lint_hook_files() -> re.Pattern[str]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    return re.compile(next(h for h in hooks if h["id"] == "pipeline-ci-lint")["files"])


def test_the_lint_hook_receives_python_pipeline_files_and_project_files():
    files = _lint_hook_files()
    for path in ("pipelines/text.py", "text.py", "p/step/1/pipeline_step.py", "p/config.yaml", "p/config-lock.yaml",
                 "manifest.yml", "p/step/requirements.txt", "requirements.txt"):
        assert files.search(path), path
    for path in ("README.md", "setup.cfg", "p/step/1/data.csv", "requirements.txt.bak", "x.pyc"):
        assert not files.search(path), path
