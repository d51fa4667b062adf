"""Prepare the git baseline of the change detector for one project (the impure side of
:mod:`pipeline_ci.changes`): resolve the commit range, list changed files relative to the
project, and read the step ids that moved or deleted folders had at the base commit."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import yaml

from .changes import FileChange, GitView


class GitViewError(Exception):
    """The git baseline cannot be computed (not a repository, missing history, bad ref)."""


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GitViewError(proc.stderr.strip() or f"git {' '.join(args)} failed")
    return proc.stdout


def _relative(path: str | None, prefix: str) -> str | None:
    if path is None:
        return None
    if not prefix:
        return path
    return path[len(prefix) + 1:] if path.startswith(prefix + "/") else None


def git_view(project_root: Path, base: str | None, head: str | None, env: Mapping[str, str]) -> GitView:
    """The files changed between the resolved base and head, as seen from ``project_root``."""
    from .gitrange import RangeError, changed_files, resolve_range

    try:
        top = Path(_git(project_root, "rev-parse", "--show-toplevel").strip())
    except GitViewError:
        raise GitViewError(f"{project_root} is not in a git work tree (use --baseline lock)") from None
    prefix = PurePosixPath(project_root.resolve().relative_to(top.resolve()).as_posix()).as_posix()
    prefix = "" if prefix == "." else prefix
    try:
        rng = resolve_range(top, base=base, head=head, env=env)
        files = changed_files(top, rng)
    except RangeError as exc:
        raise GitViewError(str(exc)) from None
    ours: list[FileChange] = []
    for change in files:
        path, old = _relative(change.path, prefix), _relative(change.old_path, prefix)
        if path is None and old is None:
            continue
        if path is None:  # moved out of the project: a deletion here
            ours.append(FileChange("D", str(old)))
        elif change.status == "R" and old is None:  # moved into the project
            ours.append(FileChange("A", path))
        else:
            ours.append(FileChange(change.status, path, old))
    return GitView(rng.base, rng.head, rng.reason, ours, _base_step_ids(top, prefix, rng.base, ours))


def _base_step_ids(top: Path, prefix: str, base: str | None, files: list[FileChange]) -> dict[str, str]:
    """``pipeline_step.id`` at ``base`` of every folder whose config.yaml was deleted or moved away."""
    if base is None:
        return {}
    out: dict[str, str] = {}
    for change in files:
        old = change.old_path if change.status == "R" else change.path if change.status == "D" else None
        if not old or PurePosixPath(old).name != "config.yaml":
            continue
        blob = f"{prefix}/{old}" if prefix else old
        try:
            data = yaml.safe_load(_git(top, "show", f"{base}:{blob}"))
        except (GitViewError, yaml.YAMLError):
            continue
        step = data.get("pipeline_step") if isinstance(data, dict) else None
        if isinstance(step, dict) and step.get("id"):
            out[str(PurePosixPath(old).parent)] = str(step["id"])
    return out
