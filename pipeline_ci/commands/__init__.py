"""One module per ``pipeline-ci`` command; :mod:`pipeline_ci.cli` parses the arguments and dispatches here.

Every command module has the same shape:

- ``Options``: a frozen dataclass of what the command takes, built from the parsed arguments by
  ``Options.from_args(args)`` (the :class:`argparse.Namespace` is never changed or passed on);
- ``run(options, env, out) -> int``: do it and return the exit code (:class:`~pipeline_ci.exitcodes.ExitCode`).
  ``env`` is the environment to read (credentials, ``GITHUB_*``, ``RUNNER_TEMP``); ``out`` prints one line of
  progress or result through the escaping writer (:func:`pipeline_ci.textsafe.print_line`).

Failures the user can act on are raised as :class:`~pipeline_ci.errors.PipelineCIError` (with their exit code);
the error handler (:mod:`pipeline_ci.error_handler`) prints them. Command modules import their heavy
dependencies inside ``run``, so ``lint`` and ``hash`` stay fast; importing this package imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType

NAMES = ("init", "lint", "hash", "schema", "changed", "upload", "run", "deploy", "watch", "cancel", "pause", "resume",
         "graph", "envs", "rules", "completion")
"""Every command, in ``--help`` order."""

REMOTE = ("upload", "deploy", "run", "watch", "cancel", "pause", "resume")
"""The commands that may read platform credentials (they are registered with the runner's masking first)."""

Env = Mapping[str, str]
Out = Callable[[str], None]


def load(name: str) -> ModuleType:
    """The module of command ``name`` (imported on demand)."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")
