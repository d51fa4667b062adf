"""``pipeline-ci cancel [RUN_ID]``: cancel a remote run; without RUN_ID, the one recorded in the state file
(``--state-file``, else ``$RUNNER_TEMP/pipeline-ci-run.json`` in Actions or ``.pipeline-ci/run.json``), addressed
as it was started (address flags given here win over what the file recorded). A ``--backend`` given here that
differs from the backend the file records is a usage error naming both (exit 2): the recorded run is on the other
platform, so neither cancelling it nor looking its id up elsewhere is what was asked; give RUN_ID to address a run on
another backend. The parser gives ``--backend`` no default, so any explicit one counts; a RUN_ID given without it
is a Clarifai run (:data:`DEFAULT_BACKEND`).
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


DEFAULT_BACKEND = "clarifai"
"""The backend of a RUN_ID given without ``--backend``."""


@dataclass(frozen=True)
class Options:
    flags: RunFlags  # ``flags.run_id`` None: the run of the state file
    backend_given: bool = False  # --backend was on the command line (checked against the state file)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        backend = getattr(args, "backend", None)
        flags = dataclasses.replace(RunFlags.from_args(args), run_id=args.run_id_arg, backend=backend or DEFAULT_BACKEND)
        return cls(flags, backend is not None)


def run(options: Options, env: Env, out: Out) -> int:
    flags = from_state_file(options.flags, env, options.backend_given)
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


def from_state_file(flags: RunFlags, env: Env, backend_given: bool = False) -> RunFlags:
    """``flags`` completed from the state file: its run id and backend, and the address flags not given (``flags``
    as they are when they name a run). ``backend_given``: ``flags.backend`` was given and must match the file's."""
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
    if backend_given and backend != flags.backend:
        raise UsageError(f"--backend {flags.backend} was given but the state file {path} records run {run_id} on "
                         f"{backend}", hint=f"leave --backend out to address that run, or give the RUN_ID of the "
                                           f"{flags.backend} run")
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
