"""A mutation fuzzer over whole projects: every file of a project (root and step configs, lockfiles,
requirements, step scripts, an overrides file) and its shape (files deleted, replaced by binary data,
by folders, by symlinks out of the project or in a loop) is mutated, then the project is linted and
its upload is planned through the real command-line entry point, in-process.

Whatever the input, the properties hold:
- no internal error (every failure is a finding or a usage error with exit 1 or 2);
- bounded time and memory per example;
- nothing outside the project is read (a Python audit hook records every file opened or listed),
  in particular never the "secret" file a symlink points at.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_ci import cli
from pipeline_ci.testing.projects import base_files

from .conftest import MUTATION_KINDS, mutate_lines, write_files

OVERRIDES = "input_text: hello\n"
LOCK = "id: v1\nhash:\n  algo: md5\n  value: 0123456789abcdef0123456789abcdef\n"
SECRET = "CLARIFAI_PAT=fuzz-secret-value-1234\n"
TIME_LIMIT_S = 10.0
MEMORY_LIMIT = 150 * 2**20

_opened: list[str] = []
_recording = False


def _hook(event: str, args: tuple) -> None:
    if _recording and event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str | bytes | os.PathLike):
        _opened.append(os.path.abspath(os.fsdecode(args[0])))


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one only appends while _recording is set


def project_files() -> dict[str, str]:
    files = base_files()
    files["overrides.yaml"] = OVERRIDES
    files["stepA/config-lock.yaml"] = LOCK
    return files


TEXT = st.text(alphabet=" -:[]{}\"'|>&*!#%@`,?\n\t\r\x1babc019{}=~.\\/", max_size=16)
EDIT = st.tuples(st.sampled_from(MUTATION_KINDS), st.integers(0, 10_000), TEXT)
SHAPE = st.sampled_from(["none", "delete", "binary", "folder", "link-out", "link-loop", "deep", "long-line"])


def apply_shape(root: Path, name: str, shape: str, secret: Path) -> None:
    path = root / name
    if shape == "none":
        return
    if path.exists() or path.is_symlink():
        path.unlink()
    if shape == "delete":
        return
    if shape == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif shape == "folder":
        path.mkdir()
        (path / "inner.yaml").write_text("a: 1\n")
    elif shape == "link-out":
        path.symlink_to(secret)
    elif shape == "link-loop":
        path.symlink_to(path.name)  # a link to itself: ELOOP on every open
    elif shape == "deep":
        path.write_text("[" * 50_000 + "]" * 50_000 + "\n")
    else:
        path.write_text("a: " + "x" * 2_000_000 + "\n")


def run_cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue() + err.getvalue()


EXAMPLES = int(os.environ.get("PIPELINE_CI_FUZZ_EXAMPLES", "60"))  # more for a longer local hunt


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(sorted(project_files())),
    edits=st.lists(EDIT, max_size=4),
    shape_target=st.sampled_from(sorted(project_files())),
    shape=SHAPE,
)
def test_whole_project_mutations_never_crash_leak_or_hang(tmp_path_factory, target, edits, shape_target, shape):
    global _recording
    base = tmp_path_factory.mktemp("fuzz")
    secret = base / "outside" / "secret.env"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    files = project_files()
    files[target] = mutate_lines(files[target], edits)
    root = write_files(base / "p", files)
    apply_shape(root, shape_target, shape, secret)

    _opened.clear()
    tracemalloc.start()
    started = time.monotonic()
    _recording = True
    try:
        lint_code, lint_out = run_cli("lint", str(root), "--no-cache", "--format", "json")
        plan_code, plan_out = run_cli("upload", str(root), "--dry-run", "--backend", "local")
    finally:
        _recording = False
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    for code, output in ((lint_code, lint_out), (plan_code, plan_out)):
        assert code in (0, 1, 2), (code, output)
        assert "internal error" not in output and "Traceback" not in output, output
        assert "fuzz-secret-value" not in output
    assert elapsed < TIME_LIMIT_S, f"{elapsed:.1f}s"
    assert peak < MEMORY_LIMIT, f"{peak / 2**20:.0f} MiB"
    outside = [p for p in _opened if p.startswith(str(secret.parent))]
    assert not outside, outside
