"""Python-defined (DSL) Clarifai pipelines: ``Pipeline``, ``@step`` and ``step_ref`` from
``clarifai.runners.pipelines`` (clarifai >= 12.5), compiled to the YAML bundle every command works on.

- :mod:`.generator`: the script run with the user's interpreter and SDK (``clarifai pipeline compile``'s output,
  plus a record of source lines and input files);
- :mod:`.bundle`: running it and caching the bundle under ``.pipeline-ci/dsl/`` keyed by its inputs;
- :mod:`.resolve`: which paths and settings name a pipeline file, the committed bundle, ``upload``'s copy;
- :mod:`.sourcemap`: lint findings in generated files, moved to the Python line they come from;
- :mod:`.changes`: the git baseline of ``changed`` for DSL steps (the bundle generated at the base commit).
"""

from __future__ import annotations

import re
from pathlib import Path

_DSL_KEY = re.compile(rb"^\s*[\"']?dsl[\"']?\s*[:=]", re.M)  # `dsl:` (YAML) or `dsl =` (TOML)


def may_name_dsl(paths: tuple[Path, ...] | list[Path], config: Path | None = None) -> bool:
    """A cheap over-approximation of :func:`pipeline_ci.dsl.resolve.names_dsl` for the lint cache's fast path
    (no import beyond the standard library): a ``.py`` file mentioning ``clarifai.runners``, or a
    settings file (``--config`` or found from a given folder) with a ``dsl`` key."""
    from ..discovery import find_settings

    for path in paths:
        try:
            if path.suffix == ".py" and path.is_file() and b"clarifai.runners" in path.read_bytes():
                return True
            settings = config or (find_settings(path) if path.is_dir() else None)
            if settings is not None and _DSL_KEY.search(settings.read_bytes()):
                return True
        except OSError:
            continue
    return False
