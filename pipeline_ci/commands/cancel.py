"""``pipeline-ci cancel [RUN_ID]``: cancel a remote run; without RUN_ID, the one recorded in the state file
(``--state-file``, else ``$RUNNER_TEMP/pipeline-ci-run.json`` in Actions or ``.pipeline-ci/run.json``), addressed
as it was started (flags given here win over what the file recorded).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PlatformError, UsageError
from ..exitcodes import ExitCode
from ..runs.session import RunFlags, existing_run, load_state, state_path
from . import Env, Out

_TARGET_FLAGS = {"user_id": "user_id", "app_id": "app_id", "pipeline_id": "pipeline_id",
                 "version_id": "pipeline_version_id", "compute_cluster_id": "compute_cluster_id",
                 "nodepool_id": "nodepool_id"}
"""State file ``target`` keys → the flag each fills when it was not given."""


@dataclass(frozen=True)
class Options:
    flags: RunFlags  # ``flags.run_id`` None: the run of the state file

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(dataclasses.replace(RunFlags.from_args(args), run_id=args.run_id_arg))


def run(options: Options, env: Env, out: Out) -> int:
    flags = from_state_file(options.flags, env)
    remote = existing_run(flags, env, out)
    if _ended(remote, out):  # idempotent: e.g. an `if: cancelled()` companion after the run had finished
        return ExitCode.OK
    try:
        remote.cancel()
    except PlatformError as exc:
        raise PlatformError(f"could not cancel run {remote.run_id}: {exc}", exc.exit_code) from exc
    out(f"pipeline-ci: cancelled run {remote.run_id}")
    return ExitCode.OK


def _ended(remote: Any, out: Out) -> bool:
    """True (and says so) when the run already has a final status; a failed poll is left to ``cancel`` itself."""
    from ..runs.follow import FINAL_STATES

    try:
        poll = remote.poll()
    except PlatformError:
        return False
    if poll.state not in FINAL_STATES:
        return False
    out(f"pipeline-ci: run {remote.run_id} already ended ({poll.status}): nothing to cancel")
    return True


def from_state_file(flags: RunFlags, env: Env) -> RunFlags:
    """``flags`` completed from the state file: its run id and backend, and the address flags not given (``flags``
    as they are when they name a run)."""
    if flags.run_id:
        return flags
    path = state_path(flags, env)
    state = load_state(path)
    if state is None:
        raise UsageError(f"no run id given and no readable state file at {path}")
    run_id = state.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise UsageError(f"the state file {path} records no run id")
    backend = state.get("backend", flags.backend)
    if not isinstance(backend, str):
        raise UsageError(f"the state file {path} records no backend")
    updates: dict[str, Any] = {"run_id": run_id, "backend": backend}
    target = state.get("target")
    for key, value in _strings(target if isinstance(target, Mapping) else {}).items():
        flag = _TARGET_FLAGS.get(key)
        if flag and getattr(flags, flag) is None:
            updates[flag] = value
    for key, value in _strings(state).items():
        if key in ("endpoint", "region") and getattr(flags, key) is None:
            updates[key] = value
    return dataclasses.replace(flags, **updates)


def _strings(data: Mapping[Any, Any]) -> dict[str, str]:
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}
