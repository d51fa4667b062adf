"""Go duration strings as Argo reads them (``time.ParseDuration`` and Argo's ``ParseStringToDuration``)."""

from __future__ import annotations

import re

from ..lazyre import lazy_re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = lazy_re(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION = lazy_re(r"[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+\Z")


def go_duration(text: str) -> float | None:
    """Seconds for a Go duration such as ``"30s"`` or ``"1h30m"`` (``"0"`` too); None if Go rejects it."""
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _GO_DURATION.match(text):
        return None
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(text))
    return -seconds if text.startswith("-") else seconds


def argo_duration(text: str) -> float | None:
    """Like :func:`go_duration`, but a bare integer string means seconds (``"10"`` → 10)."""
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return float(int(text))
    return go_duration(text)
