"""``pipeline-ci pause [RUN_ID]``: pause a remote run; without RUN_ID, the one recorded in the state file (as for
``cancel``). ``pipeline-ci resume`` (:mod:`.resume`) is its counterpart; both are :func:`change`.

Only platforms with the ``pause`` capability (:data:`pipeline_ci.platforms.PLATFORMS`: Clarifai) can; on any other
the command refuses before calling anything (exit 2). A run the platform will not pause or resume (already
finished, not paused) is an error naming the run (exit 3). ``watch`` counts a paused run as still running for
``--paused-grace`` seconds, so a run resumed within that time is followed to its end.
"""

from __future__ import annotations

from ..errors import PlatformError, UsageError
from ..exitcodes import ExitCode
from ..runs.session import existing_run
from . import Env, Out
from .cancel import Options, from_state_file

__all__ = ["Options", "change", "run"]


def run(options: Options, env: Env, out: Out) -> int:
    return change(options, env, out, "pause")


def change(options: Options, env: Env, out: Out, action: str) -> int:
    """Pause or resume (``action``) the run of ``options``."""
    from ..platforms import names

    flags = from_state_file(options.flags, env)
    if flags.backend not in names("pause"):
        hint = (f"pipeline-ci cancel --backend {flags.backend} stops a run for good" if flags.backend in names("attach")
                else "a local run is stopped with Ctrl-C or SIGTERM to its process")
        raise UsageError(f"runs on {flags.backend!r} cannot be paused or resumed; choose from {', '.join(names('pause'))}",
                         hint=hint)
    remote = existing_run(flags, env, out)
    try:
        getattr(remote, action)()
    except PlatformError as exc:
        raise PlatformError(f"could not {action} run {remote.run_id}: {exc}", exc.exit_code, hint=exc.hint) from exc
    out(f"pipeline-ci: {'paused' if action == 'pause' else 'resumed'} run {remote.run_id}")
    return ExitCode.OK
