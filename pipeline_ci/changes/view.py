"""Prepare the git baseline of the change detector for one project (the impure side of
:mod:`pipeline_ci.changes.detect`): resolve the commit range, list changed files relative to the
project, and read the step ids that moved or deleted folders had at the base commit."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ..discovery import real
from .detect import FileChange, GitView
from .gitrange import Range


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


@dataclass
class RepoDiff:
    """One resolved range and its changed files, for a whole work tree (shared by its projects)."""

    top: Path
    rng: Range
    files: list


def repo_diff(folder: Path, base: str | None, head: str | None, env: Mapping[str, str]) -> RepoDiff:
    """Resolve the range and list the changed files of the work tree holding ``folder``."""
    from .gitrange import RangeError, changed_files, resolve_range

    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    except GitViewError:
        raise GitViewError(f"{folder} is not in a git work tree (use --baseline lock)") from None
    try:
        rng = resolve_range(top, base=base, head=head, env=env)
        return RepoDiff(top, rng, changed_files(top, rng))
    except RangeError as exc:
        raise GitViewError(str(exc)) from None


def project_view(diff: RepoDiff, project_root: Path) -> GitView:
    """The part of ``diff`` inside ``project_root``, with paths relative to it."""
    prefix = real(project_root).relative_to(real(diff.top)).as_posix()
    prefix = "" if prefix == "." else prefix
    ours: list[FileChange] = []
    for change in diff.files:
        path, old = _relative(change.path, prefix), _relative(change.old_path, prefix)
        if path is None and old is None:
            continue
        if path is None:  # moved out of the project: a deletion here
            ours.append(FileChange("D", str(old)))
        elif change.status == "R" and old is None:  # moved into the project
            ours.append(FileChange("A", path))
        else:
            ours.append(FileChange(change.status, path, old))
    rng = diff.rng
    return GitView(rng.base, rng.head, rng.reason, ours, _base_step_ids(diff.top, prefix, rng.base, ours))


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
