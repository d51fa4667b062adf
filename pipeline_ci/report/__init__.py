"""Output formats for lint findings: ``text``, ``json``, ``github`` and ``sarif``.

Each module has ``render(result) -> str``; nothing here decides what is a problem. Only ``text`` shows source lines
with a caret (``source``) and colour (``colour``, for a terminal): never ``json``, ``github`` or ``sarif``.
"""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "github", "sarif")


def render(fmt: str, result, *, source: bool = True, colour: bool = False, summary: bool = True) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}_format")
    if fmt == "text":
        return module.render(result, source=source, colour=colour, summary=summary)
    return module.render(result)
