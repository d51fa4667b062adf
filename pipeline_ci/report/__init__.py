"""Output formats for lint findings: ``text``, ``json``, ``github`` and ``sarif``.

Each module has ``render(result) -> str``; nothing here decides what is a problem.
"""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "github", "sarif")


def render(fmt: str, result) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}_format")
    return module.render(result)
