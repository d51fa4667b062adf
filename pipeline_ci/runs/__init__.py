"""Starting, following, gating and cancelling pipeline runs on every backend: the platform-neutral machinery
the ``run``, ``deploy --run``, ``watch`` and ``cancel`` commands (:mod:`pipeline_ci.commands`) share.

- :mod:`.follow`: poll a :class:`~.follow.RemoteRun` to its final status (backoff, logs, timeout, cancel).
- :mod:`.session`: the run flags, the state file, signals, parameters, addressing a remote run, reporting.
- :mod:`.active`: the remote runs this process started and has not seen finish (the error handler cancels them).

Exit codes are :class:`pipeline_ci.exitcodes.ExitCode` (the README's contract: 0 succeeded · 1 run failed ·
2 nothing was started · 3 API or infrastructure error · 4 timed out · 5 cancelled · 70 internal error).
"""
