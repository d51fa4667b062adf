"""``pipeline-ci run [PATH] --backend B``: start a pipeline run, follow it to its final status and gate on it.

Exit codes: :class:`~pipeline_ci.exitcodes.ExitCode` (0 succeeded, 1 failed, 2 nothing was started, 3 API error,
4 timed out, 5 cancelled). A spec run from this machine (``--backend local``, a PAI ``--manifest``) is linted first
with the gate of ``upload`` (lint errors: exit 2, nothing started); a Clarifai run starts the uploaded version. A
remote run is registered as active (:mod:`pipeline_ci.runs.active`) from the moment the platform accepted it until
the follower takes it over (which cancels it itself if anything escapes it), so an internal error cancels it instead
of leaving it running. A state file that cannot be written is a usage error before the start; an output that fails
to write after it cancels the run (exit 3). A signal while a ``--no-wait`` run is starting cancels it too (exit 5).
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import github
from ..errors import PipelineCIError, UsageError
from ..exitcodes import ExitCode, status_word
from ..runs import active
from ..runs.session import (
    RunFlags,
    Start,
    cancel_on_signals,
    check_applies,
    check_state_writable,
    clarifai_run,
    clarifai_target,
    follow_and_report,
    pai_run,
    parameters,
    project_root,
    report_local,
    save_state,
    state_of,
    state_path,
    validate_for_project,
)
from . import Env, Out


@dataclass(frozen=True)
class Options:
    flags: RunFlags

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(RunFlags.from_args(args))


def run(options: Options, env: Env, out: Out) -> int:
    flags = options.flags
    check_applies(flags)
    if flags.backend != "local":  # an unwritable state file is a usage error before anything starts
        check_state_writable(state_path(flags, env), env)
    start: Start | None
    with cancel_on_signals(out) as cancel:  # from before the start request: a signal during it still cancels the run
        values = parameters(flags)
        if flags.backend == "local":
            return _run_local(flags, values, cancel, env, out)
        root = project_root(flags.path, committed=True) if flags.backend == "clarifai" or flags.path else None
        if flags.backend == "clarifai":
            validate_for_project(root, values)
            if flags.dry_run:
                clarifai_target(flags, root, env, out)
                shown = ", ".join(f"{k}={v}" for k, v in values.items()) or "the spec's defaults"
                out(f"pipeline-ci: dry run: would start a run with parameters {shown}; nothing was started or created")
                return ExitCode.OK
            remote, start = clarifai_run(flags, root, env, out)
        else:
            if flags.run_id:
                raise UsageError("--run-id is for Clarifai runs: PAI assigns the run id",
                                 hint="follow an existing PAI run with `pipeline-ci watch RUN_ID --backend pai`")
            if flags.manifest is not None:  # sent with the run: linted like an upload
                _lint_gate([flags.manifest], out)
            remote, start = pai_run(flags, root, values, env, out)
        if start is None:  # never for a new run; a guard for the type checker
            raise UsageError(f"cannot start a {flags.backend} run from these flags")
        if cancel.is_set():
            out("pipeline-ci: cancelled before the run was started")
            return ExitCode.CANCELLED
        start(values)
        active.register(remote)
        try:
            save_state(state_path(flags, env), state_of(flags, remote), env)
            github.set_output("run-id", remote.run_id, env)
            github.set_output("run-url", remote.url or "", env)
            target = getattr(remote, "target", None)
            if target is not None:
                github.set_output("pipeline-version-id", target.version_id, env)
        except OSError as exc:  # checked before the start: the disk filled up or a path changed since
            raise PipelineCIError(f"run {remote.run_id} was started but could not be recorded "
                                  f"({exc.strerror or exc}: {exc.filename}), so it was cancelled (see above)", ExitCode.API,
                                  hint="check the --state-file, $GITHUB_STATE and $GITHUB_OUTPUT paths") from None
        out(f"pipeline-ci: started run {remote.run_id}" + (f" ({remote.url})" if remote.url else ""))
        if flags.no_wait and not cancel.is_set():  # a signal while starting: cancelled below, like a followed run
            active.unregister(remote)
            return ExitCode.OK
        return follow_and_report(flags, remote, env, out, cancel, started_here=True)


def _run_local(flags: RunFlags, values: dict[str, str], cancel: threading.Event, env: Env, out: Out) -> int:
    from ..dsl.resolve import generated
    from ..platforms.local.executor import run_local
    from ..platforms.local.executor.sync import parse_limits

    root = project_root(flags.path, required=True)
    assert root is not None  # required=True raises instead
    validate_for_project(root, values)  # bad parameters: every one at once, as a usage error (like a remote run)
    _lint_gate([(flags.path or Path.cwd()) if generated(root) else root], out)  # a DSL pipeline: from its file
    try:
        semaphores = parse_limits(flags.semaphore)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = run_local(root, parameters=values, parallelism=flags.parallelism, isolation=flags.isolation,
                       timeout=flags.timeout, secrets_file=flags.secrets_file, out=out, cancel=cancel,
                       allow_unsupported=flags.allow_unsupported, semaphores=semaphores)
    code = report_local(result, env)
    if cancel.is_set() and code == ExitCode.OK:  # a signal in the instant after the run ended
        github.set_output("status", status_word(ExitCode.CANCELLED), env)  # the last value of a key wins
        out(f"pipeline-ci: cancelled as the run ended; exit {int(ExitCode.CANCELLED)}")
        return ExitCode.CANCELLED
    return code


def _lint_gate(paths: list[Path], out: Out) -> None:
    """The lint gate of ``upload`` and ``deploy`` (:func:`.upload.lint_gate`) before a run of a spec on this machine
    (``--backend local``; a PAI ``--manifest``): a spec with lint errors (an undeclared ``{{workflow.parameters.X}}``,
    a bad ``withParam``, ...) starts nothing and writes no run record (exit 2). The errors an upload repairs (a lockfile
    behind, a stale DSL bundle) do not matter to a run of the working tree. A Clarifai run starts the uploaded version,
    which passed the gate when it was uploaded: the working tree is not linted for it."""
    from .upload import lint_gate

    lint_gate(paths, out, "lint errors: nothing was started")
