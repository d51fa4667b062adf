"""``pipeline-ci envs list|prune``: the shared virtualenvs that local runs build for their steps.

They live in the user cache (``$PIPELINE_CI_HOME/envs``, else ``$XDG_CACHE_HOME/pipeline-ci/envs``, else
``~/.cache/pipeline-ci/envs``), one per (requirements, interpreter), shared by every project; see
:mod:`pipeline_ci.platforms.local.executor.isolation`.

* ``list``: path, size, requirements hash, Python, last used, and the state of envs that are not
  ready (``incomplete``: a build failed or was killed; ``building``: a run holds its lock now).
* ``prune``: removes the envs no run used for ``--older-than DAYS`` (default 30), every env with
  ``--all``, and always the incomplete ones; an env a run is building is never removed (it is named
  as kept). A run that needs a removed env builds it again.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..exitcodes import ExitCode
from . import Env, Out

if TYPE_CHECKING:
    from ..platforms.local.executor.isolation import EnvInfo

DEFAULT_DAYS = 30.0
DAY = 86400.0


@dataclass(frozen=True)
class Options:
    action: str  # "list" or "prune"
    older_than: float | None = None  # days (prune)
    all: bool = False  # prune every env

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        older, every = getattr(args, "older_than", None), bool(getattr(args, "all", False))
        if every and older is not None:
            raise UsageError("envs prune: --all and --older-than contradict each other", hint="give one of them")
        if older is not None and (not math.isfinite(older) or older < 0):
            raise UsageError(f"envs prune: --older-than must be a number of days >= 0, not {older:g}")
        return cls(args.envs_action, older, every)


def run(options: Options, env: Env, out: Out) -> int:
    from ..platforms.local.executor.isolation import IsolationError, envs_dir, list_envs

    try:
        root = envs_dir(env)
        envs = list_envs(root)
    except IsolationError as exc:
        raise UsageError(exc.message) from None
    if options.action == "list":
        return _list(root, envs, out)
    return _prune(options, root, envs, out)


def _ago(when: float | None, now: float) -> str:
    if when is None:
        return "-"
    seconds = max(0.0, now - when)
    if seconds < 3600:
        age = f"{seconds / 60:.0f}m"
    elif seconds < 2 * DAY:
        age = f"{seconds / 3600:.0f}h"
    else:
        age = f"{seconds / DAY:.0f}d"
    return f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(when))} ({age} ago)"


def _list(root: Path, envs: list[EnvInfo], out: Out) -> int:
    from ..settings import human_size

    if not envs:
        out(f"no shared virtualenvs in {root}")
        return ExitCode.OK
    now = time.time()
    rows = [("PATH", "SIZE", "REQUIREMENTS", "PYTHON", "LAST USED", "STATE")]
    for item in envs:
        state = "ready" if item.ready else "building" if item.busy else "incomplete"
        rows.append((str(item.path), human_size(item.size), item.requirements_hash or "-", item.python or "-",
                     _ago(item.last_used, now), state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    out(f"{len(envs)} virtualenv(s), {human_size(sum(item.size for item in envs))} in {root}")
    return ExitCode.OK


def _prune(options: Options, root: Path, envs: list[EnvInfo], out: Out) -> int:
    from ..platforms.local.executor.isolation import remove_env, remove_orphan_locks
    from ..settings import human_size

    now = time.time()
    days = DEFAULT_DAYS if options.older_than is None else options.older_than
    removed, freed, status = 0, 0, ExitCode.OK
    for item in envs:
        stale = not item.ready or item.last_used is None or now - item.last_used > days * DAY
        if not (options.all or stale):
            continue
        what = f"{item.path} ({human_size(item.size)}, last used {_ago(item.last_used, now)})"
        try:
            if not remove_env(root, item.key):
                out(f"kept {item.path}: a run is building it")
                continue
        except OSError as exc:
            out(f"pipeline-ci: error: cannot remove {item.path}: {exc.strerror or exc}")
            status = ExitCode.USAGE
            continue
        out(f"removed {what}")
        removed += 1
        freed += item.size
    remove_orphan_locks(root)
    rule = "all" if options.all else f"not used for {days:g} day(s), or incomplete"
    out(f"removed {removed} of {len(envs)} virtualenv(s) ({rule}), {human_size(freed)} freed, from {root}")
    return status
