"""Repository hygiene: ruff is clean and the lint hook path does not import heavy modules."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.runs.follow import poll_delays

from .conftest import REPO


def test_ruff_is_clean():
    local = Path(sys.executable).with_name("ruff")
    ruff = str(local) if local.exists() else shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    result = subprocess.run([ruff, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    """The type hints are checked: ``mypy pipeline_ci`` (settings in pyproject.toml) reports no error."""
    result = subprocess.run([sys.executable, "-m", "mypy", "pipeline_ci"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


HEAVY = ("git", "grpc", "clarifai_grpc", "requests")  # "git" is GitPython, which nothing may import


@pytest.mark.parametrize("command", [["lint", "examples/hello-pipeline"], ["hash", "examples/hello-pipeline/prepare"],
                                     ["hash", "--tracked-only", "examples/hello-pipeline/prepare"]])
def test_lint_and_hash_do_not_import_gitpython_or_grpc(command):
    code = ("import sys, runpy; sys.argv = ['pipeline-ci', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print('HEAVY', heavy, 'LAYER', 'pipeline_ci.changes.git' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, *command], cwd=REPO, capture_output=True, text=True)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    if "--tracked-only" in command:  # it ran git (ls-files), through the git layer, still without GitPython
        assert "LAYER True" in result.stdout, result.stdout + result.stderr


#: What a cold ``lint`` of a valid project must not import (issue 13): the executor (rule O02 shares its overrides
#: checks through ``pipeline_ci.overrides``), JSON Schema (valid documents pass the generated ``schemas.fastcheck``),
#: ``packaging`` (everyday requirement lines are recognised first), process pools (only for large monorepos), the
#: change detector (``hashing`` needs only ``changes.git``), for a Clarifai project the PAI manifest model and rules,
#: and modules only some inputs need: ``typing`` (type checking only), ``json`` (a JSON overrides file or a literal
#: ``withParam``), ``difflib`` (a did-you-mean hint), the ``when`` parser (a spec with ``when``: the example has none),
#: and ``subprocess`` (git, run for the tracked files, is spawned by ``changes.git`` without it).
NOT_ON_LINT_PATH = (*HEAVY, "pipeline_ci.platforms.local.executor", "jsonschema", "referencing", "packaging",
                    "concurrent.futures", "multiprocessing", "pipeline_ci.changes.detector", "pipeline_ci.lint_cache",
                    "importlib.resources", "pipeline_ci.platforms.pai.manifest", "pipeline_ci.rules.pai_documents",
                    "typing", "json", "difflib", "pipeline_ci.argo.when", "decimal", "subprocess", "dataclasses",
                    "inspect")


def test_a_cold_lint_imports_only_what_it_needs():
    code = ("import sys, runpy; sys.argv = ['pipeline-ci', 'lint', '--no-cache', 'examples/hello-pipeline']\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    print('EXIT', exc.code)\n"
            f"print('LOADED', sorted(m for m in {NOT_ON_LINT_PATH!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert "EXIT 0" in result.stdout and "LOADED []" in result.stdout, result.stdout + result.stderr


#: The classes a cold ``lint`` may still create with ``@dataclass`` (about 0.3 ms each at import, and
#: ``dataclasses`` imports ``inspect``): none. Records on the lint path are named tuples or plain classes (see
#: ``pipeline_ci.records``), and ``dataclasses`` is in :data:`NOT_ON_LINT_PATH`; this test keeps working if it
#: ever comes back.
DATACLASSES_ON_LINT_PATH: set[str] = set()


def test_a_cold_lint_creates_no_other_dataclass():
    code = ("import dataclasses, sys, runpy\nmade = []\noriginal = dataclasses._process_class\n"
            "def spy(cls, *args, **kwargs):\n    made.append(f'{cls.__module__}.{cls.__qualname__}')\n"
            "    return original(cls, *args, **kwargs)\n"
            "dataclasses._process_class = spy\n"
            "dataclasses.dataclass(type('Probe', (), {'__annotations__': {'x': 'int'}}))\n"  # shows the spy works
            "sys.argv = ['pipeline-ci', 'lint', '--no-cache', 'examples/hello-pipeline']\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    print('EXIT', exc.code)\nprint('MADE', sorted(made))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert "EXIT 0" in result.stdout, result.stdout + result.stderr
    made = set(ast.literal_eval(result.stdout.split("MADE ", 1)[1]))
    assert "__main__.Probe" in made and made - {"__main__.Probe"} <= DATACLASSES_ON_LINT_PATH, made


def test_a_cached_lint_imports_neither_the_linter_nor_json_nor_locale(tmp_path: Path):
    """The second of two identical lints is answered from the result cache: it imports no rule, no YAML, no ``json``
    (the entry is read with the C scanner) and no ``locale`` (argparse's messages are not looked up with gettext)."""
    code = ("import sys, runpy; sys.argv = ['pipeline-ci', 'lint', 'examples/hello-pipeline']\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    print('EXIT', exc.code)\n"
            "print('LOADED', sorted(m for m in ('pipeline_ci.lint', 'yaml', 'json', 'locale', 'typing') "
            "if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k != "PIPELINE_CI_NO_CACHE"}
    env.update(PIPELINE_CI_CACHE_DIR=str(tmp_path), PIPELINE_CI_CACHE_RACY_SECONDS="0")
    first, second = (subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
                     for _ in range(2))
    assert "EXIT 0" in first.stdout and "'pipeline_ci.lint'" in first.stdout, first.stdout + first.stderr
    assert "EXIT 0" in second.stdout and "LOADED []" in second.stdout, second.stdout + second.stderr
    assert second.stdout.splitlines()[0] == first.stdout.splitlines()[0] == "no problems found in 1 project(s)"


def test_importing_lint_or_change_detection_does_not_import_gitpython():
    """``import pipeline_ci.lint`` (the pre-commit hook) and the change detection package load no GitPython: git
    runs as a plain subprocess from ``pipeline_ci.changes.git`` only."""
    code = ("import sys\nimport pipeline_ci.lint\nlint = sorted(m for m in HEAVY if m in sys.modules)\n"
            "import pipeline_ci.changes, pipeline_ci.commands.changed, pipeline_ci.hashing\n"
            "print('LINT', lint, 'CHANGES', sorted(m for m in HEAVY if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0 and "LINT [] CHANGES []" in result.stdout, result.stdout + result.stderr


def test_poll_schedule_stays_within_150_calls_an_hour():
    for jitter_draw in (0.0, 1.0):
        elapsed, calls = 0.0, 0
        delays = poll_delays(30.0, rng=lambda draw=jitter_draw: draw)
        first = next(delays)
        assert first <= 2.0
        elapsed, calls = first, 1
        while elapsed < 3600:
            elapsed += next(delays)
            calls += 1
        assert calls <= 150


def test_no_file_cites_the_private_reference_notes():
    """Code, tests and docs cite public sources (upstream docs, API references, upstream files) or our own ``docs/``,
    never the private notes folder beside the working tree: a clone of the repository does not have it. Scans every
    tracked (or new, not ignored) text file under pipeline_ci/, tests/, docs/, bench/, examples/ and the README."""
    import re

    # Written so that this source file does not match itself.
    notes = re.compile(r"\.\./shared(?![\w-])|shared/+reference|/work/+shared\b"
                       r"|\b(?:argo-workflows|clarifai-pipelines|pai-pipelines|ci-conventions|code-models)\.md\b")
    assert notes.search("see ../" + "shared/" + "reference/pai" + "-pipelines.md")
    assert not notes.search("step_directories: [../shared-steps/stepA]")  # a path in an example, not the notes
    roots = ["pipeline_ci", "tests", "docs", "bench", "examples", "README.md"]
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *roots],
                            cwd=REPO, capture_output=True, check=True).stdout.decode("utf-8", "replace").split("\0")
    files = [REPO / name for name in listed if name and (REPO / name).is_file()]
    assert any(path.name == "README.md" for path in files) and len(files) > 100, listed[:5]
    hits = []
    for path in files:
        data = path.read_bytes()
        if b"\0" in data:  # binary
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if notes.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not hits, "cite a public source or docs/ instead of the private notes:\n" + "\n".join(hits)


def test_a_local_run_whose_steps_need_nothing_imports_no_requirement_checker(tmp_path: Path):
    """The example's steps need only the standard library: ``deploy --run`` then never asks whether requirements are
    met, so neither ``packaging`` nor ``importlib.metadata`` is imported (about 15 ms of every local run)."""
    shutil.copytree(REPO / "examples" / "hello-pipeline", tmp_path / "p", ignore=shutil.ignore_patterns(".pipeline-ci"))
    code = ("import sys, runpy; sys.argv = ['pipeline-ci', 'deploy', 'p', '--backend', 'local', '--run']\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    print('EXIT', exc.code)\n"
            "print('LOADED', sorted(m for m in ('packaging', 'importlib.metadata') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "REPORT_TOKEN": "t"})
    assert "EXIT 0" in result.stdout and "Succeeded" in result.stdout, result.stdout + result.stderr
    assert "LOADED []" in result.stdout, result.stdout
