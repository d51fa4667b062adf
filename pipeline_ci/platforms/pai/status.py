"""PAIFlow run status (``Status`` of GetPipelineRun / ListPipelineRuns) → CI outcome (our policy).

    Succeeded                                      → success
    Failed, Skipped                                → failure   (Skipped can be made a pass: skipped_is_success)
    Terminated                                     → cancelled
    Suspended                                      → paused    (the caller fails it after a grace period)
    Initialized, Running, Terminating,
    ReadyToSchedule, Starting, WorkflowServiceStarting → running
    Unknown, anything else, empty                  → unknown   (keep polling within an "unknown" budget)

Matching ignores case, so a differently-cased spelling of a documented status is not mistaken for an unknown one.
"""

from __future__ import annotations

SUCCESS = "success"
FAILURE = "failure"
CANCELLED = "cancelled"
PAUSED = "paused"
RUNNING = "running"
UNKNOWN = "unknown"

TERMINAL_OUTCOMES = frozenset({SUCCESS, FAILURE, CANCELLED})

STATUS_OUTCOMES: dict[str, str] = {
    "Succeeded": SUCCESS,
    "Failed": FAILURE,
    "Skipped": FAILURE,  # the whole run was skipped; fail by default
    "Terminated": CANCELLED,
    "Suspended": PAUSED,
    "Initialized": RUNNING,  # created, not started: the caller starts it or applies a start timeout
    "Running": RUNNING,
    "Terminating": RUNNING,  # transitional: keep polling until Terminated
    "ReadyToSchedule": RUNNING,  # the next three are known to alipai only (S7)
    "Starting": RUNNING,
    "WorkflowServiceStarting": RUNNING,
}
_BY_LOWER = {status.lower(): result for status, result in STATUS_OUTCOMES.items()}


def outcome(status: str | None, *, skipped_is_success: bool = False) -> str:
    """The CI outcome of a run status (one of the constants above); ``Unknown`` and new strings → ``unknown``."""
    key = (status or "").strip().lower()
    if key == "skipped" and skipped_is_success:
        return SUCCESS
    return _BY_LOWER.get(key, UNKNOWN)


def is_terminal(result: str) -> bool:
    """Whether an outcome ends the wait (``paused`` and ``unknown`` do not: the caller budgets them)."""
    return result in TERMINAL_OUTCOMES
