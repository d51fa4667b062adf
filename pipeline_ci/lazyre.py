"""Regular expressions compiled on first use.

``NAME = lazy_re(r"...")`` at module level costs nothing at import: the pattern is compiled the first time one of
its attributes (``match``, ``search``, ``sub``, ``pattern``, ...) is used, and from then on those attributes are
plain attributes of the object (no indirection per call). Lint imports every rule module on every run, most of
which never need most of their patterns, so compiling them all at import would be start-up time for nothing.

The object stands in for a compiled :class:`re.Pattern` for attribute access only: do not pass it to
``re.sub``/``re.compile`` or test it with ``isinstance``; call its methods.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing's: this module is imported on the cached lint's start-up, typing is not
if TYPE_CHECKING:
    from typing import Any

_FORWARDED = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "pattern", "flags",
              "groups", "groupindex")


class _LazyPattern:
    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only called for attributes not set yet: the first use
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attr in _FORWARDED:
            self.__dict__[attr] = getattr(compiled, attr)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re({self._source[0]!r})"


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern compiled on first use (typed as the compiled pattern it stands for)."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]
