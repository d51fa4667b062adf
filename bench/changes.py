"""Change detector cost on a generated repository of 1,000 steps and 2,000 commits.

    python bench/changes.py [--quick]

The repository (built with ``git fast-import``) holds 200 pipelines x 5 steps. Commit 1 adds them;
commits 2..1999 each touch one step; commit 2000 touches 600 steps. Measured in the same run:

- marginal cost per changed step: (``changed`` over the 600-step range - over a one-step range) / 599,
  target <= 1 ms;
- fixed cost: ``changed`` over the one-step range, as a ratio to ``python -c pass`` and to
  ``git diff --name-only`` over the same range (reported, no target).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.run import pipeline_files  # noqa: E402


def fast_import(root: Path, pipelines: int, commits: int, wide: int) -> None:
    """Write the history through one ``git fast-import`` stream."""
    lines: list[bytes] = []

    def blob_inline(path: str, text: str) -> None:
        data = text.encode()
        lines.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    def commit(number: int, message: str) -> None:
        lines.append(f"commit refs/heads/main\ncommitter b <b@b> {1_700_000_000 + number} +0000\n".encode())
        lines.append(f"data {len(message)}\n{message}\n".encode())

    commit(1, "initial")
    steps = []
    for i in range(pipelines):
        for name, text in pipeline_files(i, 5).items():
            blob_inline(f"p{i}/{name}", text)
        steps += [f"p{i}/s{i}x{j}" for j in range(5)]
    for number in range(2, commits):
        commit(number, f"touch one step {number}")
        step = steps[number % len(steps)]
        blob_inline(f"{step}/1/pipeline_step.py", f"print({number})\n")
    commit(commits, f"touch {wide} steps")
    for step in steps[:wide]:
        blob_inline(f"{step}/1/pipeline_step.py", "print('wide')\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(lines), check=True)
    subprocess.run(["git", "checkout", "-qf", "main"], cwd=root, check=True)


def best(cmd: list[str], cwd: Path, runs: int) -> float:
    out = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out = min(out, time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="40 pipelines, 400 commits, 120-step range")
    args = parser.parse_args()
    pipelines, commits, wide = (40, 400, 120) if args.quick else (200, 2000, 600)
    runs = 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        start = time.perf_counter()
        fast_import(root, pipelines, commits, wide)
        print(f"generated {pipelines * 5} steps, {commits} commits in {time.perf_counter() - start:.1f} s")
        changed = [sys.executable, "-m", "pipeline_ci", "changed", "--baseline", "git", "--format", "json"]
        one = best([*changed, "--base", "HEAD~2", "--head", "HEAD~1"], root, runs)
        many = best([*changed, "--base", "HEAD~1", "--head", "HEAD"], root, runs)
        base = best([sys.executable, "-c", "pass"], root, runs)
        diff = best(["git", "diff", "--name-only", "HEAD~2", "HEAD~1"], root, runs)
        marginal = (many - one) / (wide - 1)
        print(f"marginal cost per changed step: ({many:.3f} s - {one:.3f} s) / {wide - 1} = {marginal * 1000:.3f} ms "
              "(target <= 1 ms)")
        print(f"fixed cost (one-step range): {one:.3f} s = {one / base:.1f} x python -c pass, "
              f"{one / diff:.1f} x git diff --name-only")


if __name__ == "__main__":
    main()
