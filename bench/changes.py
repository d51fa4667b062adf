"""Change detector cost on a generated repository of 1,000 steps and 2,000 commits.

    python bench/changes.py [--quick]

The repository (built with ``git fast-import``, then cloned: a fresh clone, no cache of ours) holds 200 pipelines
x 5 steps with their lockfiles. Commit 1 adds them; commits 2..1998 each change one step and refresh its lockfile
and its pipeline's root lockfile (new step version pinned, fingerprint line) as ``upload`` writes them after a merge,
so every lockfile is fresh at commit 1998; commit 1999 touches one step; commit
2000 touches 760 steps (neither refreshes a lockfile, like a pull request). Measured in the same run:

- fixed cost: ``changed`` over commits 1998..1999 (one step touched; the work tree at 1999) as a ratio to
  ``python -c pass`` (target <= 8) and to ``git diff --name-only`` over the same range;
- marginal cost per changed step: (``changed`` over 1998..2000, 760 steps touched - over the one-step range) / 759,
  target <= 0.1 ms. Both ranges start where every lockfile is fresh, as after a release (from 1999, the step commit
  1999 touched would make its project's base a state no fingerprint vouches for: that project is loaded, and the
  imports loading needs, PyYAML's among them, count as marginal cost).
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
from pipeline_ci import hashing, lockfiles  # noqa: E402
from pipeline_ci.changes import fingerprint  # noqa: E402
from pipeline_ci.changes.detector import KnownStep  # noqa: E402


def root_lock(config_text: str, versions: dict[str, str], pipeline_version: str) -> str:
    """The root lockfile of a pipeline whose steps are pinned at ``versions`` (step id -> version id)."""
    import yaml

    pipeline = yaml.safe_load(config_text)["pipeline"]
    spec = yaml.safe_load(pipeline["orchestration_spec"]["argo_orchestration_spec"])
    pins = {key: versions[key[2]] for key in (lockfiles.ref_key(name) for name in _ref_names(spec)) if key}
    return lockfiles.root_lock_text(pipeline, lockfiles.pin_refs(spec, pins), pipeline_version)


def stamped(project: str, tree: dict[str, str], lock_text: str, steps: list[KnownStep]) -> str:
    """``lock_text`` with the fingerprint line ``upload`` writes for an up-to-date project (every file of ``tree``
    under ``project``, as committed; ``steps`` as ``detect`` sees them, every one referenced by the spec)."""
    entries = {name[len(project) + 1:]: fingerprint.blob_id(text.encode()) for name, text in tree.items()
               if name.startswith(project + "/") and name != f"{project}/config-lock.yaml"}
    entries["config-lock.yaml"] = fingerprint.blob_id(lock_text.encode())
    facts = fingerprint.facts_digest(f"demo{project[1:]}", (steps, {step.key for step in steps}))
    return fingerprint.with_line(lock_text, f"{fingerprint.digest(entries, facts)} {facts}")


def _ref_names(spec: dict) -> list[str]:
    return [step["templateRef"]["name"] for tmpl in spec["spec"]["templates"] for group in tmpl.get("steps") or []
            for step in group if "templateRef" in step]


def step_lock(step: str, files: dict[str, str], version: str) -> tuple[str, str]:
    """A fresh step lockfile for the files of ``step`` (paths relative to the repository), and the hash it pins."""
    import hashlib

    import yaml

    inside = {name[len(step) + 1:]: text.encode() for name, text in files.items()
              if name.startswith(step + "/") and name.rsplit("/", 1)[-1] not in hashing.EXCLUDED_NAMES}
    digest = hashlib.md5()
    for rel in hashing.hash_order(list(inside)):
        hashing.feed(digest, rel, len(inside[rel]), inside[rel])
    return lockfiles.step_lock_text(version, digest.hexdigest(), yaml.safe_load(inside["config.yaml"])), digest.hexdigest()


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
    tree: dict[str, str] = {}
    for i in range(pipelines):
        for name, text in pipeline_files(i, 5).items():
            tree[f"p{i}/{name}"] = text
        steps += [f"p{i}/s{i}x{j}" for j in range(5)]
    versions = {step.rsplit("/", 1)[1]: "v1" for step in steps}
    hashes: dict[str, str] = {}

    def refresh_root(project: str, pipeline_version: str) -> None:  # as ``upload`` writes it after the steps
        text = root_lock(tree[f"{project}/config.yaml"], versions, pipeline_version)
        known = [KnownStep(name, ("u1", "a1", name), versions[name], hashes[name], False)
                 for name in (s.rsplit("/", 1)[1] for s in steps if s.startswith(project + "/"))]
        tree[f"{project}/config-lock.yaml"] = stamped(project, tree, text, known)

    for step in steps:
        tree[f"{step}/config-lock.yaml"], hashes[step.rsplit("/", 1)[1]] = step_lock(step, tree, "v1")
    for i in range(pipelines):
        refresh_root(f"p{i}", "pv1")
    for name, text in tree.items():
        blob_inline(name, text)
    for number in range(2, commits - 1):
        commit(number, f"change one step and refresh the lockfiles {number}")
        step = steps[number % len(steps)]
        project = step.split("/", 1)[0]
        tree[f"{step}/1/pipeline_step.py"] = f"print({number})\n"
        versions[step.rsplit("/", 1)[1]] = f"v{number}"
        tree[f"{step}/config-lock.yaml"], hashes[step.rsplit("/", 1)[1]] = step_lock(step, tree, f"v{number}")
        refresh_root(project, f"pv{number}")
        for name in (f"{step}/1/pipeline_step.py", f"{step}/config-lock.yaml", f"{project}/config-lock.yaml"):
            blob_inline(name, tree[name])
    commit(commits - 1, "touch one step")
    blob_inline(f"{steps[0]}/1/pipeline_step.py", "print('one')\n")
    commit(commits, f"touch {wide} steps")
    for step in steps[:wide]:
        blob_inline(f"{step}/1/pipeline_step.py", "print('wide')\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(lines), check=True)
    subprocess.run(["git", "checkout", "-qf", "main"], cwd=root, check=True)


def fresh_clone(source: Path, target: Path) -> None:
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(target)], check=True)


def best(cmd: list[str], cwd: Path, runs: int) -> float:
    out = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out = min(out, time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="40 pipelines, 400 commits, 150-step range")
    args = parser.parse_args()
    pipelines, commits, wide = (40, 400, 150) if args.quick else (200, 2000, 760)
    runs = 5
    with tempfile.TemporaryDirectory() as tmp:
        origin, root = Path(tmp) / "origin", Path(tmp) / "repo"
        start = time.perf_counter()
        fast_import(origin, pipelines, commits, wide)
        fresh_clone(origin, root)
        print(f"generated {pipelines * 5} steps, {commits} commits in {time.perf_counter() - start:.1f} s")
        for baseline in ("both", "git"):
            changed = [sys.executable, "-m", "pipeline_ci", "changed", "--baseline", baseline, "--format", "json",
                       "--base"]
            subprocess.run(["git", "checkout", "-q", "HEAD~1"], cwd=root, check=True)  # the work tree is the head
            one = best([*changed, "HEAD~1"], root, runs)  # commit 1998 (every lockfile fresh) .. 1999
            subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)
            changed.append("HEAD~2")  # the same fresh base .. 2000
            many = best(changed, root, runs)
            base = best([sys.executable, "-c", "pass"], root, runs)
            diff = best(["git", "diff", "--name-only", "HEAD~2", "HEAD~1"], root, runs)
            marginal = (many - one) / (wide - 1)
            told = subprocess.run([*changed[:3], "-v", *changed[3:]], cwd=root, capture_output=True, text=True,
                                  check=True).stderr
            print(f"--baseline {baseline}: {told.count(': untouched, and its root lockfile')} untouched project(s) "
                  f"vouched for, {told.count(': touched, its fingerprint vouching')} touched one(s) answered from "
                  f"the fingerprint (the {wide}-step range)")
            print(f"--baseline {baseline}: fixed cost (one-step range) {one * 1000:.0f} ms = {one / base:.1f} x "
                  f"python -c pass ({base * 1000:.0f} ms; target <= 8), {one / diff:.1f} x git diff --name-only")
            print(f"--baseline {baseline}: marginal cost per changed step ({many * 1000:.0f} ms - {one * 1000:.0f} ms) "
                  f"/ {wide - 1} = {marginal * 1000:.3f} ms (target <= 0.1 ms)")


if __name__ == "__main__":
    main()
