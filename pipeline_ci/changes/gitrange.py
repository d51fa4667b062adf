"""The git side of ``pipeline-ci changed``: which commit range a CI job diffs, and what changed in it.

Explicit ``--base``/``--head`` win and are used as given (a two-dot diff). Otherwise the GitHub event
(``GITHUB_EVENT_NAME`` + the JSON at ``GITHUB_EVENT_PATH``) chooses the base:
``pull_request[_target]``: merge base of head and ``origin/<base.ref>`` (or the local branch, then ``base.sha``);
``push`` of a tag: the previous tag reachable from ``head^``; ``push``: ``before`` if it is an ancestor of head,
else (new branch, force push) the merge base with the default branch, or None for a first push of the default
branch; ``merge_group``: ``base_sha``; anything else: merge base with the default branch, None on it. Without a
GitHub env: merge base with ``origin/HEAD``, ``main`` or ``master``, None if HEAD is one of them. ``base=None``
means "no git baseline": every file tracked at head is added, and the lockfile hashes decide.

Pitfalls avoided (each one a known bug of other change detectors or of a naive ``git diff``):

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
  ``--ignore-submodules=none`` (a configured ignore would hide submodule bumps), all set by :class:`.git.Git`;
- import cost: git runs through :mod:`pipeline_ci.changes.git` (plain ``subprocess``, no GitPython).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..records import NamedTuple
from .git import FileChange, Git, GitError

TYPE_CHECKING = False  # not typing's: ``changed`` imports this module before it starts git
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

REMOTE = "origin"
FETCH_DEPTH = 50  # depth of a first fetch of a missing branch or commit into a shallow clone
DEEPEN_STEPS = (50, 100, 200, 400, 800, 1600, 3200)  # then --unshallow
HINT_DEPTH = 200
_ZERO = re.compile(r"0+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class RangeError(GitError):
    """The range cannot be resolved: an unknown revision, or history that is missing and cannot be fetched."""


class Range(NamedTuple):
    """The commits a CI job diffs: ``base..head`` (two-dot), and how ``base`` was chosen."""

    base: str | None  # None: no git baseline, everything at head is new
    head: str
    reason: str  # how the base was chosen, for --explain and logs
    fetched: tuple[str, ...] = ()  # the fetch commands that were run


class _Want(NamedTuple):
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


class _Resolver:
    """The questions range resolution asks of one repository, fetching (and recording it) when allowed."""

    def __init__(self, repo_path: Path, deepen: bool):
        self.git = Git(repo_path)
        try:
            self.git.check_repository()  # e.g. "dubious ownership" in containers
        except GitError as exc:
            if exc.returncode is None:
                raise
            raise RangeError(f"{repo_path}: {exc.stderr or 'not a git repository'}", exc.command, exc.stderr,
                             exc.returncode) from None
        self.fetched: list[str] = []
        remote = REMOTE in self.git.remotes()
        why = "fetching is disabled" if remote else f"there is no '{REMOTE}' remote"
        self.cannot_fetch = "" if deepen and remote else why

    def sha(self, rev: str) -> str | None:
        return self.git.commit(rev)

    def shallow(self) -> bool:
        return self.git.is_shallow()

    def fetch(self, opts: list[str], specs: list[str]) -> bool:
        """Fetch ``specs`` from origin; if the remote refuses one (a local-only head), try them one by one."""
        for attempt in [specs] + ([[s] for s in specs] if len(specs) > 1 else []):
            try:
                self.fetched.append(self.git.fetch(REMOTE, attempt, opts))
                return True
            except GitError as exc:
                if exc.returncode is None:
                    raise
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
        return self.deepening(lambda: self.git.merge_base(head, rev), [want.spec, head],
                              f"no merge base of {head[:12]} and {rev}", want.name)


def resolve_range(repo_path: Path, base: str | None = None, head: str | None = None,
                  env: Mapping[str, str] = os.environ, deepen: bool = True) -> Range:
    """The range a CI job should diff: explicit ``base``/``head``, else from the GitHub event, else local."""
    repo = _Resolver(Path(repo_path), deepen)
    head_sha = repo.sha(head or "HEAD")
    if head_sha is None:
        raise RangeError(f"unknown head revision {head or 'HEAD'!r}")
    if base is not None:
        base_sha = repo.sha(base)
        if base_sha is None:
            name = base.removeprefix(f"{REMOTE}/")
            found = repo.find(_commit(base) if _SHA.fullmatch(base) else _branch(name), optional=True)
            base_sha = repo.sha(found[1]) if found else None
        if base_sha is None:
            raise RangeError(f"unknown base revision {base!r}")
        return Range(base_sha, head_sha, f"explicit --base {base}", tuple(repo.fetched))
    base_sha, reason = _from_event(repo, head_sha, env) if env.get("GITHUB_EVENT_NAME") else _local(repo, head_sha)
    return Range(base_sha, head_sha, reason, tuple(repo.fetched))


def _load_event(path: str | None) -> dict[str, Any]:
    try:  # a missing or broken event file is treated as an empty event
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        data = {}
    return data if isinstance(data, dict) else {}


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else empty (a malformed event degrades, it does not crash)."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _default_branch(repo: _Resolver) -> str:
    """``origin/HEAD``'s branch, else ``main`` or ``master`` if present (``actions/checkout`` sets no origin/HEAD)."""
    if ref := repo.git.symbolic_ref(f"refs/remotes/{REMOTE}/HEAD"):
        return ref.removeprefix(f"{REMOTE}/")
    return next((b for b in ("main", "master") if any(repo.sha(r) for r in _branch(b).revs)), "main")


def _merge_base_with(repo: _Resolver, head: str, label: str, *wants: _Want) -> tuple[str | None, str]:
    found = repo.find(*wants)
    if found is None:
        raise RangeError(f"{label}: cannot fetch {' or '.join(w.name for w in wants)} from {REMOTE}")
    want, rev = found
    base = repo.merge_base(head, want, rev)
    if base is None:
        return None, f"{label}: no common history with {rev}: everything is new"
    return base, f"{label}: merge base of HEAD and {rev}"


def _from_event(repo: _Resolver, head: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    name = env["GITHUB_EVENT_NAME"]
    event = _load_event(env.get("GITHUB_EVENT_PATH"))
    default = _text(_obj(event.get("repository")).get("default_branch")) or _default_branch(repo)
    ref = _text(event.get("ref")) or env.get("GITHUB_REF") or ""
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None

    if name in ("pull_request", "pull_request_target"):
        pr_base = _obj(_obj(event.get("pull_request")).get("base"))
        target, base_sha = _text(pr_base.get("ref")) or env.get("GITHUB_BASE_REF"), _text(pr_base.get("sha"))
        wants = [_branch(target)] if target else []
        wants += [_commit(base_sha)] if base_sha else []
        if not wants:
            raise RangeError(f"{name} event without pull_request.base; pass --base")
        return _merge_base_with(repo, head, name, *wants)

    if name == "merge_group":
        sha = _text(_obj(event.get("merge_group")).get("base_sha"))
        found = repo.find(_commit(sha)) if sha else None
        if found is None:
            raise RangeError(f"merge_group: base_sha {sha!r} is not available; pass --base")
        return repo.sha(found[1]), "merge_group: merge_group.base_sha"

    if name == "push" and ref.startswith("refs/tags/"):
        def previous_tag() -> str | None:  # ``head^``: a tag on head itself is not "previous"
            return repo.git.describe_tag(f"{head}^") if repo.sha(f"{head}^") else None
        tags = "+refs/tags/*:refs/tags/*"
        tag = repo.deepening(previous_tag, [tags, head], "no previous tag", f"'{tags}'")
        label = f"push of tag {ref.removeprefix('refs/tags/')}"
        if tag is None:
            return None, f"{label}: no previous tag: everything is new"
        return repo.sha(f"refs/tags/{tag}"), f"{label}: previous tag {tag}"

    on_default = branch == default
    if name == "push":
        before = _text(event.get("before")) or ""
        if not before or _ZERO.fullmatch(before):
            if on_default:
                return None, "push: first push of the default branch: everything is new"
            why = "push: new branch (before is all zeros)"
        else:
            # In a complete history a missing ``before`` cannot be an ancestor: no need to fetch it.
            present = repo.find(_commit(before), optional=True) is not None if repo.shallow() else bool(repo.sha(before))
            fork = repo.merge_base(head, _commit(before), before) if present else None
            if fork == before:
                return before, "push: event.before (the previous tip of the branch)"
            why = "push: force push (before is " + ("not an ancestor of head)" if present else "missing)")
            if on_default:
                return fork, f"{why}: merge base of before and HEAD" if fork else f"{why}: everything is new"
        return _merge_base_with(repo, head, why, _branch(default))

    if on_default or repo.sha(f"{REMOTE}/{default}") == head:
        return None, f"{name}: on the default branch {default}: no git baseline (lockfile hashes only)"
    return _merge_base_with(repo, head, name, _branch(default))


def _local(repo: _Resolver, head: str) -> tuple[str | None, str]:
    for rev in (f"{REMOTE}/HEAD", "main", "master", f"{REMOTE}/main", f"{REMOTE}/master"):
        sha = repo.sha(rev)
        if sha == head:
            return None, f"no GitHub event and HEAD is {rev}: no git baseline"
        if sha:
            name = _default_branch(repo) if rev == f"{REMOTE}/HEAD" else rev.removeprefix(f"{REMOTE}/")
            return _merge_base_with(repo, head, "no GitHub event", _branch(name, (rev,)))
    return None, f"no GitHub event and no {REMOTE}/HEAD, main or master: no git baseline"


def changed_files(repo_path: Path, rng: Range) -> list[FileChange]:
    """Every file that differs between ``rng.base`` and ``rng.head`` (all files at head if base is None); no cap."""
    git = Git(repo_path)
    if rng.base is None:
        return [FileChange("A", path) for path in git.tree_files(rng.head)]
    return git.diff(rng.base, rng.head)
