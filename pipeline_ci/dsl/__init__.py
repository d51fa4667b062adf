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
    (no import beyond the standard library): a ``.py`` file mentioning ``clarifai.runners``, or a settings file
    (``--config``, or found from a given folder or from the folder of a given ``.py`` file, which the settings'
    ``dsl:`` may name) with a ``dsl`` key. Each settings file is looked up and read once per call."""
    from ..discovery import find_settings

    found: dict[Path, Path | None] = {}  # folder -> its settings file
    has_key: dict[Path, bool] = {}  # settings file -> has a `dsl` key
    for path in paths:
        try:
            if path.suffix == ".py" and path.is_file():
                if b"clarifai.runners" in path.read_bytes():
                    return True
                folder: Path | None = path.parent
            elif path.is_dir():
                folder = path
            else:
                folder = None
            if config is not None:
                settings: Path | None = config
            elif folder is None:
                continue
            else:
                if folder not in found:
                    found[folder] = find_settings(folder)
                settings = found[folder]
            if settings is None:
                continue
            if settings not in has_key:
                has_key[settings] = bool(_DSL_KEY.search(settings.read_bytes()))
            if has_key[settings]:
                return True
        except OSError:
            continue
    return False
