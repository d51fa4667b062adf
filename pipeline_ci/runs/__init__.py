"""Starting, following, gating and cancelling pipeline runs on every backend.

The exit-code contract (README): 0 succeeded · 1 run failed · 2 usage or configuration error
(nothing was started) · 3 API or infrastructure error (could not start, or lost track of the
run) · 4 timed out waiting · 5 cancelled.
"""

SUCCEEDED, FAILED, USAGE, API_ERROR, TIMED_OUT, CANCELLED = 0, 1, 2, 3, 4, 5
