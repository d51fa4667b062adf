"""The Clarifai SDK (clarifai==12.5.0, the first release with ``clarifai.runners.pipelines``) for the tests of
Python-defined pipelines, installed once into a cached virtualenv (``~/.cache/pipeline-ci-test/clarifai-12.5.0``,
or under ``$PIPELINE_CI_TEST_CACHE``) from PyPI with plain ``pip install``: no test is skipped for want of it.

A file lock serialises the installation between pytest-xdist workers; a ``.complete`` marker written last means a
half-made venv (an interrupted run) is rebuilt instead of used.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

SDK = "clarifai==12.5.0"


def cache_root() -> Path:
    base = os.environ.get("PIPELINE_CI_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pipeline-ci-test")
    return Path(base)


@cache
def sdk_python() -> Path:
    """The interpreter of the cached venv that has the SDK (created on first use)."""
    venv = cache_root() / SDK.replace("==", "-")
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", SDK],
                           check=True)
            (venv / ".complete").write_text(SDK + "\n", encoding="utf-8")
    return python
