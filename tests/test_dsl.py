"""Python-defined (DSL) pipelines against the real Clarifai SDK (clarifai==12.5.0 in a cached venv, see
``tests/dsl_sdk.py``): the bundle is byte-for-byte ``clarifai pipeline compile``'s, lint findings point at the
Python lines, drift against a committed bundle, clear errors (exit 2), change detection per step, local runs,
remote uploads into ``generated-<id>/`` (Clarifai emulator). Test data: ``tests/data/dsl/`` (see its README)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .dsl_sdk import sdk_python

DATA = Path(__file__).parent / "data" / "dsl"
VENV_BIN = Path(sys.executable).parent  # has ruff (a test extra): the SDK formats step scripts with it


@pytest.fixture(scope="session")
def sdk() -> Path:
    return sdk_python()


def env_for(sdk: Path, *, ruff: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a CLI run; with ``ruff``, our venv's ``bin`` (it has ruff) leads ``PATH``: the SDK formats
    step scripts with ruff when it finds it (slower, so it is put there for the byte-for-byte test only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_", "PIPELINE_CI_"))}
    env.update(PIPELINE_CI_PYTHON=str(sdk), PIPELINE_CI_NO_CACHE="1", **extra)
    if ruff:
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".pipeline-ci" not in p.relative_to(root).parts}


def copy(name: str, dest: Path) -> Path:
    src = DATA / name
    if src.is_dir():
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(".pipeline-ci", "__pycache__"))
    else:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / name)
    return dest / name


def test_bundle_is_byte_for_byte_clarifai_compile_and_lint_points_at_python_lines(tmp_path: Path, sdk: Path):
    source = copy("text_pipeline.py", tmp_path / "repo")
    env = env_for(sdk, ruff=True)
    compiled = subprocess.run([str(sdk.parent / "clarifai"), "pipeline", "compile", source.name, "--output-dir",
                               str(tmp_path / "sdk-out")], cwd=source.parent, env=env, capture_output=True, text=True,
                              timeout=120)
    assert compiled.returncode == 0, compiled.stderr

    result = cli(source.parent, env, "lint", source.name, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    ours = tree(source.parent / ".pipeline-ci" / "dsl" / "text_pipeline" / "bundle")
    theirs = tree(tmp_path / "sdk-out")
    assert set(ours) == {"config.yaml", *(f"{s}/{f}" for s in ("clean-text", "word-stats", "merge-report")
                                          for f in ("config.yaml", "requirements.txt", "1/pipeline_step.py"))}
    assert ours == theirs  # byte for byte, ruff formatting included (ruff is on PATH for both)
    assert b"import json\n\n\ndef squeeze" in ours["clean-text/1/pipeline_step.py"]  # formatted by ruff indeed

    findings = json.loads(result.stdout)["findings"]
    lines = source.read_text().splitlines()
    ref_line = lines.index("summarize = step_ref(") + 1
    by_rule = {f["rule"]: f for f in findings}
    assert by_rule["A37"]["file"] == source.name and by_rule["A37"]["line"] == ref_line  # the step_ref call
    assert by_rule["X05"]["file"] == source.name and by_rule["X05"]["line"] == ref_line
    assert "[generated config.yaml:" in by_rule["A37"]["message"]

    # an argument that names an undeclared workflow parameter: reported at that keyword of the node's call; and
    # a suppression comment on the Python line
    text = source.read_text().replace("stats = word_stats(text=cleaned.output(), top=5)",
                                      'stats = word_stats(text=cleaned.output(), top="{{workflow.parameters.nope}}")')
    text = text.replace("summarize = step_ref(\n", "summarize = step_ref(  # pipeline-ci: disable=ref-owner\n")
    source.write_text(text)
    bad = cli(source.parent, env, "lint", source.name, "--format", "json")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    rules = {f["rule"] for f in json.loads(bad.stdout)["findings"]}
    assert "X05" in rules and "A37" not in rules  # the same line, only A37 (ref-owner) is disabled there
    errors = [f for f in json.loads(bad.stdout)["findings"] if f["severity"] == "error"]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "workflow.parameters.nope" in t)
    assert errors and all(f["file"] == source.name for f in errors)
    assert (line, text.splitlines()[line - 1].index("top=") + 1) in {(f["line"], f["column"]) for f in errors}


def test_errors_missing_sdk_and_a_file_that_raises(tmp_path: Path, sdk: Path):
    source = copy("text_pipeline.py", tmp_path)
    missing = cli(tmp_path, env_for(sdk), "lint", source.name, "--python", sys.executable)  # no SDK in our venv
    assert missing.returncode == 2
    assert "Clarifai SDK" in missing.stderr and "pipeline-ci[dsl]" in missing.stderr and "Traceback" not in missing.stderr

    (tmp_path / "settings_loader.py").write_text("def load():\n    return {}['missing-key']\n")
    raising = tmp_path / "raising.py"
    raising.write_text("from clarifai.runners.pipelines import Pipeline\nimport settings_loader\n\n"
                       "CONFIG = settings_loader.load()\n\nwith Pipeline(id='p', user_id='u', app_id='a') as p:\n"
                       "    pass\n")
    for command in (["lint", raising.name], ["run", raising.name], ["changed", raising.name, "--baseline", "lock"]):
        result = cli(tmp_path, env_for(sdk, PYTHONPATH="."), *command)
        assert result.returncode == 2, (command, result.stdout + result.stderr)
        err = result.stderr
        assert "settings_loader.py:2: importing raising.py raised KeyError: 'missing-key'" in err
        assert 'File "' + str(raising.resolve()) + '", line 4, in <module>' in err  # the user's frames ...
        assert "return {}['missing-key']" in err
        assert "clarifai/" not in err and "generator.py" not in err and "importlib" not in err  # ... only


def test_drift_against_the_committed_bundle(tmp_path: Path, sdk: Path):
    source = copy("text_pipeline.py", tmp_path)
    env = env_for(sdk)
    committed = tmp_path / "generated-text-report"
    compiled = subprocess.run([str(sdk.parent / "clarifai"), "pipeline", "compile", source.name, "--output-dir",
                               committed.name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stderr
    clean = cli(tmp_path, env, "lint", source.name, "--format", "json")
    assert "D01" not in {f["rule"] for f in json.loads(clean.stdout)["findings"]}, clean.stdout

    source.write_text(source.read_text().replace("text.lower() if lowercase", "text.casefold() if lowercase"))
    drift = cli(tmp_path, env, "lint", source.name, "--format", "json")
    d01 = [f for f in json.loads(drift.stdout)["findings"] if f["rule"] == "D01"]
    assert drift.returncode == 1 and len(d01) == 1, drift.stdout
    assert d01[0]["file"] == "generated-text-report/clean-text/1/pipeline_step.py"
    assert "lower()" in (committed / "clean-text" / "1" / "pipeline_step.py").read_text().splitlines()[d01[0]["line"] - 1]
    assert "clarifai pipeline compile text_pipeline.py --output-dir generated-text-report" in d01[0]["message"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@e.st", "-c", "user.name=t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def test_changed_selects_the_dsl_steps_whose_function_helpers_or_assets_changed(tmp_path: Path, sdk: Path):
    repo = tmp_path / "repo"
    flow = copy("local_flow", repo)
    (repo / ".pipeline-ci.yaml").write_text("dsl: local_flow/flow.py\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "flow")
    env = env_for(sdk)

    def selected(*extra: str) -> list[str]:
        result = cli(repo, env, "changed", ".", "--baseline", "git", "--base", "HEAD~1", "--format", "json", *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        data = json.loads(result.stdout)
        assert [p["project"] for p in data["projects"]] == ["local_flow/flow.py"]
        return sorted(s["step_id"] for s in data["selected"])

    text = (flow / "flow.py").read_text()
    (flow / "flow.py").write_text(text.replace("return text.upper()", "return text.upper() + '!'"))  # shout's helper
    git(repo, "commit", "-qam", "helper")
    assert selected() == ["shout"]

    (flow / "requirements-shout.txt").write_text("# still nothing to install\n")  # shout's asset
    git(repo, "commit", "-qam", "asset")
    assert selected() == ["shout"]

    (flow / "README.md").write_text("not an input of the pipeline\n")
    (flow / "flow.py").write_text((flow / "flow.py").read_text().replace('print(f"{n} words")', 'print(n, "words")'))
    git(repo, "add", ".")
    git(repo, "commit", "-qam", "count-words")
    assert selected() == ["count-words"]

    (flow / "README.md").write_text("changed, but no input of the pipeline\n")
    git(repo, "commit", "-qam", "docs")
    assert selected() == []


def test_local_deploy_and_run_from_the_python_file_and_the_cache(tmp_path: Path, sdk: Path):
    flow = copy("local_flow", tmp_path) / "flow.py"
    env = env_for(sdk)
    deployed = cli(flow.parent, env, "deploy", "flow.py", "--backend", "local", "--run", "--isolation", "none")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "HELLO BIG WORLDHELLO BIG WORLD" in deployed.stdout and "Succeeded" in deployed.stdout
    cache = flow.parent / ".pipeline-ci" / "dsl" / "flow"
    key = (cache / "key.json").read_bytes()
    assert json.loads(key)["inputs"] == {str(flow.resolve()): json.loads(key)["inputs"][str(flow.resolve())],
                                         str((flow.parent / "requirements-shout.txt").resolve()):
                                             json.loads(key)["inputs"][str((flow.parent / "requirements-shout.txt").resolve())]}
    stamp = (cache / "meta.json").stat().st_mtime_ns

    rerun = cli(flow.parent, env, "run", "flow.py", "--set", "text=two words", "--isolation", "none")
    assert rerun.returncode == 0 and "TWO WORDSTWO WORDS" in rerun.stdout, rerun.stdout + rerun.stderr
    assert (cache / "meta.json").stat().st_mtime_ns == stamp  # reused: nothing changed
    assert not list(flow.parent.glob("__pycache__"))

    flow.write_text(flow.read_text().replace("print(loud * times)", "print(loud * times, 'x')"))
    again = cli(flow.parent, env, "run", "flow.py", "--isolation", "none")
    assert again.returncode == 0 and "HELLO BIG WORLDHELLO BIG WORLD x" in again.stdout
    assert (cache / "meta.json").stat().st_mtime_ns != stamp  # regenerated


def test_remote_upload_writes_the_committed_bundle_like_the_sdk(tmp_path: Path, sdk: Path):
    from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator

    flow = copy("local_flow", tmp_path) / "flow.py"
    pat = "pat-dsl-0123456789-secret"
    with ClarifaiEmulator({pat}, build_polls=1) as emu:
        env = env_for(sdk, CLARIFAI_PAT=pat, CLARIFAI_API_BASE=f"http://{emu.address}")
        plan = cli(flow.parent, env, "upload", "flow.py", "--backend", "clarifai", "--dry-run")
        assert plan.returncode == 0, plan.stdout + plan.stderr
        committed = flow.parent / "generated-local-flow"
        assert not committed.exists() and not emu.uploads
        result = cli(flow.parent, env, "upload", "flow.py", "--backend", "clarifai")
        assert result.returncode == 0, result.stdout + result.stderr
        assert sorted(u.step_id for u in emu.uploads) == ["count-words", "shout"]
    bundle = flow.parent / ".pipeline-ci" / "dsl" / "flow" / "bundle"
    assert {k: v for k, v in tree(committed).items() if not k.endswith("config-lock.yaml")} == tree(bundle)
    lock = yaml.safe_load((committed / "config-lock.yaml").read_text())
    assert lock["pipeline"]["version_id"] and (committed / "shout" / "config-lock.yaml").is_file()

    def lock_selected() -> list[str]:
        result = cli(flow.parent, env, "changed", "flow.py", "--baseline", "lock", "--format", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        return [s["step_id"] for s in json.loads(result.stdout)["selected"]]

    assert lock_selected() == []  # the committed lockfiles pin what the Python file generates
    flow.write_text(flow.read_text().replace("print(loud * times)", "print(loud * times, 'x')"))
    assert lock_selected() == ["shout"]


def test_bad_dsl_settings_are_usage_errors(tmp_path: Path, sdk: Path):
    (tmp_path / "pipeline.py").write_text("from clarifai.runners.pipelines import Pipeline\n")
    env = env_for(sdk)
    for settings, message in (("dsl: missing.py\n", "no such Python pipeline file"),
                              ("dsl: [{file: pipeline.py, extra: 1}]\n", "each 'dsl' entry must be"),
                              ("dsl: pipeline.py\npython: [3]\n", "'python' must be")):
        (tmp_path / ".pipeline-ci.yaml").write_text(settings)
        result = cli(tmp_path, env, "lint", ".")
        assert result.returncode == 2 and message in result.stderr, (settings, result.stdout + result.stderr)
    (tmp_path / ".pipeline-ci.yaml").write_text("dsl: pipeline.py\npython: no-such-python\n")
    result = cli(tmp_path, {**env, "PIPELINE_CI_PYTHON": ""}, "run", ".")
    assert result.returncode == 2 and "Python interpreter 'no-such-python' not found" in result.stderr
