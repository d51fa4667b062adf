"""The git baseline of ``pipeline-ci changed`` for a Python-defined pipeline.

Git sees the pipeline file, its local imports and its assets change, not step folders. So the pipeline is compiled
at the base commit too (its recorded input files, read with ``git cat-file`` into ``<cache>/base-src/`` under their
paths in the work tree, and compiled there with the same interpreter; cached like any bundle), and the two bundles
are compared file by file: the differences are the :class:`~pipeline_ci.changes.GitView` of the generated project,
so a changed step function, a helper it calls, its requirements or a decorator argument touches exactly the steps
whose generated folder changed. When no input file changed in the range, nothing is compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from ..changes.detector import GitView
from ..changes.git import FileChange, Git
from ..changes.view import RepoDiff
from ..discovery import real
from .bundle import STATE, DslError, bundle_meta, cache_dir, materialize


def _files(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] != STATE and path.is_file():
            out[rel.as_posix()] = path.read_bytes()
    return out


def git_view(root: Path, diff: RepoDiff, env: Mapping[str, str]) -> GitView:
    """The changes git makes to the generated bundle at ``root`` over ``diff``'s range (see the module docstring)."""
    meta = bundle_meta(root) or {}
    top = real(diff.top)
    inputs = [Path(p) for p in meta.get("inputs", []) if Path(p).is_relative_to(top)]
    rels = {p.relative_to(top).as_posix() for p in inputs}
    changed = {c.path for c in diff.files} | {c.old_path for c in diff.files if c.old_path}
    if diff.rng.base is None or not rels & changed:
        return GitView(diff.rng, [])
    source = Path(str(meta["source"]))
    head = _files(root)
    base = _base_bundle(source, inputs, top, diff.rng.base, env, meta.get("python"))
    if base is None:  # the pipeline file is new, or did not compile at the base commit: every file is new
        return GitView(diff.rng, [FileChange("A", rel) for rel in head])
    before = _files(base)
    files = [FileChange("A" if rel not in before else "D" if rel not in head else "M", rel)
             for rel in sorted(set(head) | set(before)) if head.get(rel) != before.get(rel)]
    base_ids: dict[str, str] = {}
    for change in files:
        if change.status == "D" and change.path.endswith("/config.yaml"):
            try:
                data = yaml.safe_load(before[change.path])
                base_ids[change.path.rsplit("/", 1)[0]] = str(data["pipeline_step"]["id"])
            except (yaml.YAMLError, KeyError, TypeError):
                continue
    return GitView(diff.rng, files, base_ids)


def _base_bundle(source: Path, inputs: list[Path], top: Path, base: str, env: Mapping[str, str],
                 python: str | None) -> Path | None:
    """The bundle of ``source`` as of commit ``base`` (None when the file is not there or does not compile)."""
    git = Git(top)
    tree = cache_dir(source) / "base-src"
    for path in inputs:
        rel = path.relative_to(top).as_posix()
        blob = git.blob(base, rel)
        dest = tree / rel
        if blob is None:
            if dest.is_file():
                dest.unlink()
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.is_file() or dest.read_bytes() != blob:
            dest.write_bytes(blob)
    copy = tree / source.relative_to(top)
    if not copy.is_file():
        return None
    try:
        return materialize(copy, env, python_setting=python).root
    except DslError:
        return None
