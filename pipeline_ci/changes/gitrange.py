"""The git side of ``pipeline-ci changed``: which commit range a CI job diffs, and what changed in it.

Explicit ``--base``/``--head`` win and are used as given (a two-dot diff). Otherwise the GitHub event
(``GITHUB_EVENT_NAME`` + the JSON at ``GITHUB_EVENT_PATH``) chooses the base:
``pull_request[_target]``: merge base of head and ``origin/<base.ref>`` (or the local branch, then ``base.sha``);
``push`` of a tag: the previous tag reachable from ``head^``; ``push``: ``before`` if it is an ancestor of head,
else (new branch, force push) the merge base with the default branch, or None for a first push of the default
branch; ``merge_group``: ``base_sha``; anything else: merge base with the default branch, None on it. Without a
GitHub env: merge base with ``origin/HEAD``, ``main`` or ``master``, None if HEAD is one of them. ``base=None``
means "no git baseline": every file tracked at head is added, and the lockfile hashes decide.

Pitfalls avoided (ci-conventions.md §3, §7):

- first push (all-zero ``before``): tj-actions diffs ``HEAD^``, showing only the last commit (#387, #952);
- force push: ``before`` is a stale tip (dorny/paths-filter#240), so its ancestry is checked, never assumed;
- merge commits (main merged into the branch): the merge base moves to main's merged tip, so main's own changes
  are not reported, which diffing against the first parent or the original fork point would get wrong;
- shallow clones: missing branches/commits are fetched (depth 50), then history deepened by 50, 100, ... 3200,
  then ``--unshallow``, each fetch recorded in ``Range.fetched`` (truncated history makes ``before`` look like a
  force push). If it cannot fetch (``deepen=False``, no ``origin``), ``RangeError`` names the command to run;
- file caps: a local ``git diff``, never the REST API (300/3000-file caps, dorny/paths-filter#227);
- renames: ``--find-renames=50%`` keeps old paths (paths-filter passes ``--no-renames``);
- mangled output: ``-z``, ``core.quotepath=off``, ``diff.relative=false``, ``--no-ext-diff``, ``--no-color``,
  ``--ignore-submodules=none`` (a configured ignore would hide submodule bumps);
- import cost: gitpython is imported inside the functions, so the lint hook does not pay for it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REMOTE = "origin"
FETCH_DEPTH = 50  # depth of a first fetch of a missing branch or commit into a shallow clone
DEEPEN_STEPS = (50, 100, 200, 400, 800, 1600, 3200)  # then --unshallow
HINT_DEPTH = 200
_ZERO = re.compile(r"0+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class RangeError(Exception):
    """The range cannot be resolved: an unknown revision, or history that is missing and cannot be fetched."""


@dataclass
class Range:
    base: str | None  # None: no git baseline, everything at head is new
    head: str
    reason: str  # how the base was chosen, for --explain and logs
    fetched: list[str] = field(default_factory=list)  # the fetch commands that were run


@dataclass
class FileChange:
    status: str  # "A", "M", "D" or "R"
    path: str
    old_path: str | None = None
    similarity: int | None = None


@dataclass
class _Want:
    """A base to find locally (``revs``, in order) or fetch (``spec``); ``name`` is what hints show."""

    revs: tuple[str, ...]
    spec: str
    name: str


def _branch(name: str, revs: tuple[str, ...] = ()) -> _Want:
    spec = f"+refs/heads/{name}:refs/remotes/{REMOTE}/{name}"
    return _Want(revs or (f"{REMOTE}/{name}", f"refs/heads/{name}"), spec, name)


def _commit(sha: str) -> _Want:
    return _Want((sha,), sha, sha)


def _hint(opts: str, what: str) -> str:
    return f"run 'git fetch {opts}{REMOTE} {what}' or use actions/checkout with fetch-depth: 0"


class _Git:
    def __init__(self, repo_path: Path, deepen: bool):
        import git

        self.error = git.GitCommandError
        try:
            self.repo = git.Repo(repo_path, search_parent_directories=True)
            self.repo.git.execute(["git", "rev-parse", "--git-dir"])  # e.g. "dubious ownership" in containers
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError) as exc:
            raise RangeError(f"{repo_path}: {str(getattr(exc, 'stderr', '')).strip() or 'not a git repository'}")
        self.fetched: list[str] = []
        remote = REMOTE in [r.name for r in self.repo.remotes]
        why = "fetching is disabled" if remote else f"there is no '{REMOTE}' remote"
        self.cannot_fetch = "" if deepen and remote else why

    def run(self, *args: str, **kwargs: Any) -> str | None:
        try:
            return self.repo.git.execute(["git", *args], **kwargs)
        except self.error:
            return None

    def sha(self, rev: str) -> str | None:  # (no --end-of-options: rev-parse needs git 2.30 for it)
        return None if rev.startswith("-") else self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")

    def shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository") == "true"

    def fetch(self, opts: list[str], specs: list[str]) -> bool:
        """Fetch ``specs`` from origin; if the remote refuses one (a local-only head), try them one by one."""
        for attempt in [specs] + ([[s] for s in specs] if len(specs) > 1 else []):
            cmd = ["fetch", "--no-tags", "--quiet", *opts, REMOTE, *attempt]
            if self.run(*cmd, env={"GIT_TERMINAL_PROMPT": "0"}) is not None:
                self.fetched.append(" ".join(["git", *cmd]))
                return True
        return False

    def find(self, *wants: _Want, optional: bool = False) -> tuple[_Want, str] | None:
        """The first want present locally, else fetched, else None; raises if it cannot fetch (unless ``optional``
        and the history is complete, so a missing commit really is absent)."""
        for want in wants:
            for rev in want.revs:
                if self.sha(rev):
                    return want, rev
        shallow = self.shallow()
        if self.cannot_fetch and wants and not (optional and not shallow):
            names = " or ".join(repr(w.name) for w in wants)
            depth = f"--depth={HINT_DEPTH} " if shallow else ""
            raise RangeError(f"{names} is not in this clone and {self.cannot_fetch}; {_hint(depth, wants[0].spec)}")
        for want in wants if not self.cannot_fetch else []:
            if self.fetch([f"--depth={FETCH_DEPTH}"] if shallow else [], [want.spec]) and self.sha(want.revs[0]):
                return want, want.revs[0]
        return None

    def deepening(self, attempt: Callable[[], str | None], specs: list[str], what: str, name: str) -> str | None:
        """``attempt()``, deepening a shallow clone until it answers or the history is complete."""
        result, steps = attempt(), [f"--deepen={n}" for n in DEEPEN_STEPS] + ["--unshallow"]
        while result is None and steps and self.shallow():
            if self.cannot_fetch:
                raise RangeError(f"{what}: the clone is shallow and {self.cannot_fetch}; "
                                 f"{_hint(f'--deepen={HINT_DEPTH} ', name)}")
            if not self.fetch([steps[0]], specs):
                raise RangeError(f"{what}: 'git fetch {steps[0]} {REMOTE}' failed; {_hint('--unshallow ', name)}")
            result, steps = attempt(), steps[1:]
        return result

    def merge_base(self, head: str, want: _Want, rev: str) -> str | None:
        return self.deepening(lambda: self.run("merge-base", head, rev), [want.spec, head],
                              f"no merge base of {head[:12]} and {rev}", want.name)


def resolve_range(repo_path: Path, base: str | None = None, head: str | None = None,
                  env: Mapping[str, str] = os.environ, deepen: bool = True) -> Range:
    """The range a CI job should diff: explicit ``base``/``head``, else from the GitHub event, else local."""
    git = _Git(Path(repo_path), deepen)
    head_sha = git.sha(head or "HEAD")
    if head_sha is None:
        raise RangeError(f"unknown head revision {head or 'HEAD'!r}")
    if base is not None:
        base_sha = git.sha(base)
        if base_sha is None:
            name = base.removeprefix(f"{REMOTE}/")
            found = git.find(_commit(base) if _SHA.fullmatch(base) else _branch(name), optional=True)
            base_sha = git.sha(found[1]) if found else None
        if base_sha is None:
            raise RangeError(f"unknown base revision {base!r}")
        return Range(base_sha, head_sha, f"explicit --base {base}", git.fetched)
    base_sha, reason = _from_event(git, head_sha, env) if env.get("GITHUB_EVENT_NAME") else _local(git, head_sha)
    return Range(base_sha, head_sha, reason, git.fetched)


def _load_event(path: str | None) -> dict[str, Any]:
    try:  # a missing or broken event file is treated as an empty event
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        data = {}
    return data if isinstance(data, dict) else {}


def _default_branch(git: _Git) -> str:
    """``origin/HEAD``'s branch, else ``main`` or ``master`` if present (``actions/checkout`` sets no origin/HEAD)."""
    if ref := git.run("symbolic-ref", "--quiet", "--short", f"refs/remotes/{REMOTE}/HEAD"):
        return ref.removeprefix(f"{REMOTE}/")
    return next((b for b in ("main", "master") if any(git.sha(r) for r in _branch(b).revs)), "main")


def _merge_base_with(git: _Git, head: str, label: str, *wants: _Want) -> tuple[str | None, str]:
    found = git.find(*wants)
    if found is None:
        raise RangeError(f"{label}: cannot fetch {' or '.join(w.name for w in wants)} from {REMOTE}")
    want, rev = found
    base = git.merge_base(head, want, rev)
    if base is None:
        return None, f"{label}: no common history with {rev}: everything is new"
    return base, f"{label}: merge base of HEAD and {rev}"


def _from_event(git: _Git, head: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    name = env["GITHUB_EVENT_NAME"]
    event = _load_event(env.get("GITHUB_EVENT_PATH"))
    default = (event.get("repository") or {}).get("default_branch") or _default_branch(git)
    ref = str(event.get("ref") or env.get("GITHUB_REF") or "")
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None

    if name in ("pull_request", "pull_request_target"):
        pr_base = (event.get("pull_request") or {}).get("base") or {}
        target = pr_base.get("ref") or env.get("GITHUB_BASE_REF")
        wants = [_branch(target)] if target else []
        wants += [_commit(pr_base["sha"])] if pr_base.get("sha") else []
        if not wants:
            raise RangeError(f"{name} event without pull_request.base; pass --base")
        return _merge_base_with(git, head, name, *wants)

    if name == "merge_group":
        sha = (event.get("merge_group") or {}).get("base_sha")
        found = git.find(_commit(sha)) if sha else None
        if found is None:
            raise RangeError(f"merge_group: base_sha {sha!r} is not available; pass --base")
        return git.sha(found[1]), "merge_group: merge_group.base_sha"

    if name == "push" and ref.startswith("refs/tags/"):
        def previous_tag() -> str | None:  # ``head^``: a tag on head itself is not "previous"
            return git.run("describe", "--tags", "--abbrev=0", f"{head}^") if git.sha(f"{head}^") else None
        tags = "+refs/tags/*:refs/tags/*"
        tag = git.deepening(previous_tag, [tags, head], "no previous tag", f"'{tags}'")
        label = f"push of tag {ref.removeprefix('refs/tags/')}"
        if tag is None:
            return None, f"{label}: no previous tag: everything is new"
        return git.sha(f"refs/tags/{tag}"), f"{label}: previous tag {tag}"

    on_default = branch == default
    if name == "push":
        before = str(event.get("before") or "")
        if not before or _ZERO.fullmatch(before):
            if on_default:
                return None, "push: first push of the default branch: everything is new"
            why = "push: new branch (before is all zeros)"
        else:
            # In a complete history a missing ``before`` cannot be an ancestor: no need to fetch it.
            found = git.find(_commit(before), optional=True) if git.shallow() else git.sha(before)
            fork = git.merge_base(head, _commit(before), before) if found else None
            if fork == before:
                return before, "push: event.before (the previous tip of the branch)"
            why = "push: force push (before is " + ("not an ancestor of head)" if found else "missing)")
            if on_default:
                return fork, f"{why}: merge base of before and HEAD" if fork else f"{why}: everything is new"
        return _merge_base_with(git, head, why, _branch(default))

    if on_default or git.sha(f"{REMOTE}/{default}") == head:
        return None, f"{name}: on the default branch {default}: no git baseline (lockfile hashes only)"
    return _merge_base_with(git, head, name, _branch(default))


def _local(git: _Git, head: str) -> tuple[str | None, str]:
    for rev in (f"{REMOTE}/HEAD", "main", "master", f"{REMOTE}/main", f"{REMOTE}/master"):
        sha = git.sha(rev)
        if sha == head:
            return None, f"no GitHub event and HEAD is {rev}: no git baseline"
        if sha:
            name = _default_branch(git) if rev == f"{REMOTE}/HEAD" else rev.removeprefix(f"{REMOTE}/")
            return _merge_base_with(git, head, "no GitHub event", _branch(name, (rev,)))
    return None, f"no GitHub event and no {REMOTE}/HEAD, main or master: no git baseline"


def changed_files(repo_path: Path, rng: Range) -> list[FileChange]:
    """Every file that differs between ``rng.base`` and ``rng.head`` (all files at head if base is None); no cap."""
    import git

    repo = git.Repo(repo_path, search_parent_directories=True)
    config = ["-c", "core.quotepath=off", "-c", "diff.relative=false"]
    if rng.base is None:
        cmd = ["ls-tree", "-r", "-z", "--full-tree", "--name-only", rng.head]
    else:
        cmd = ["diff", "--name-status", "-z", "--find-renames=50%", "--no-color", "--no-ext-diff",
               "--ignore-submodules=none", rng.base, rng.head, "--"]
    try:
        raw = repo.git.execute(["git", *config, *cmd], stdout_as_string=False)
    except git.GitCommandError as exc:
        raise RangeError(f"git {cmd[0]} failed: {str(exc.stderr).strip()}") from exc
    fields = raw.decode("utf-8", "surrogateescape").split("\0")
    if rng.base is None:
        return [FileChange("A", path) for path in fields if path]
    changes, tokens = [], iter(fields)
    for status in tokens:
        if not status:
            break
        if status[0] in "RC":  # renamed or copied: "R086", old path, new path (a copy counts as added)
            old, new = next(tokens), next(tokens)
            score = int(status[1:]) if status[1:].isdigit() else None
            changes.append(FileChange("R" if status[0] == "R" else "A", new, old, score))
        else:  # T (type change, e.g. file <-> symlink) and anything unusual count as modified
            changes.append(FileChange(status if status in ("A", "M", "D") else "M", next(tokens)))
    return changes
