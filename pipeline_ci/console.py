"""How much pipeline-ci says (``-q``/``-v``) and whether it says it in colour: the state every printer reads.

- **Verbosity** (:func:`set_verbosity`, set once by the CLI): ``-q`` (:data:`QUIET`) prints only results, verdicts,
  warnings and errors; ``-v`` (:data:`VERBOSE`) adds ``debug:`` lines on stderr (:func:`debug`, :func:`timed`):
  the platform requests made, their request ids and how long they took. A debug line never carries a credential:
  callers pass method names, ids and timings, and every line is escaped by :func:`pipeline_ci.textsafe.safe_line`.
- **Colour** (:func:`colour`): on when the stream is a terminal and ``TERM`` is not ``dumb``; ``NO_COLOR`` (any
  non-empty value, https://no-color.org) turns it off, ``FORCE_COLOR`` (any non-empty value,
  https://force-color.org) turns it on for a pipe or a CI log; ``NO_COLOR`` wins when both are set.
  Colour is added *after* a line was made safe (:func:`emit`), so the escapes it adds are the only ones printed;
  report files (``-o``) are never coloured.

Every line still goes through :mod:`pipeline_ci.textsafe`: :func:`emit` is :func:`~pipeline_ci.textsafe.print_line`
plus colour.
"""

from __future__ import annotations

import os
import re
import sys
import time
from _thread import RLock  # what threading.RLock() makes, without importing threading (a cached lint's start-up)
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from .lazyre import lazy_re

TYPE_CHECKING = False  # not typing's: this module is on the cached lint's start-up, typing is not
if TYPE_CHECKING:
    from typing import IO, Any, TypeVar

    T = TypeVar("T")

QUIET, NORMAL, VERBOSE = -1, 0, 1
_state = {"verbosity": NORMAL}

RED, GREEN, YELLOW, CYAN, BOLD, DIM = "31", "32", "33", "36", "1", "2"

_PHASE_STYLE = {"succeeded": GREEN, "failed": RED, "error": RED, "cancelled": YELLOW, "timed-out": YELLOW}
VERDICT = lazy_re(r"^(?:pipeline-ci: run \S+|workflow \S+) (?P<word>succeeded|failed|error|cancelled|timed-out)\b",
                  re.I)
"""A run's final line: ``pipeline-ci: run ID failed (...)`` (remote) or ``workflow NAME Succeeded in 3.2s`` (local)."""
FINDING = lazy_re(r"^\S.*?:\d+:\d+: (?:error|warning) \[")
"""A lint finding's first line (``file:line:col: error [RULE] message``), which ``-q`` still prints."""
_PREFIX = lazy_re(r"^(?:(?P<error>pipeline-ci: (?:internal )?error:)|(?P<warning>pipeline-ci: warning:)"
                  r"|(?P<hint>\s*hint:)|(?P<debug>debug:))")


def set_verbosity(level: int) -> None:
    """``-1`` quiet, ``0`` normal, ``1`` or more verbose."""
    _state["verbosity"] = level


def quiet() -> bool:
    return _state["verbosity"] < NORMAL


def verbose() -> bool:
    return _state["verbosity"] >= VERBOSE


def colour(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` is coloured (see the module docstring)."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return terminal(stream, env)


def terminal(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` is a terminal that takes escape codes (``TERM`` is not ``dumb``)."""
    if (os.environ if env is None else env).get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def paint(text: str, style: str, on: bool = True) -> str:
    """``text`` in ``style`` (SGR codes such as :data:`RED` or ``"1;31"``) when ``on``."""
    return f"\x1b[{style}m{text}\x1b[0m" if on and text else text


def phase_style(word: str) -> str | None:
    """The colour of a run or step outcome (``succeeded``, ``Failed``, ``timed-out`` ...), or None."""
    return _PHASE_STYLE.get(word.lower())


def style_line(line: str) -> str:
    """A safe line with colour on what it starts with: ``pipeline-ci: error:`` red, ``warning:`` yellow, ``hint:``
    cyan, ``debug:`` dim, and a run's verdict word in the colour of its outcome."""
    match = _PREFIX.match(line)
    if match:
        kind = match.lastgroup or ""
        style = {"error": f"{BOLD};{RED}", "warning": f"{BOLD};{YELLOW}", "hint": CYAN, "debug": DIM}[kind]
        if kind == "debug":
            return paint(line, style)
        return paint(match.group(), style) + line[match.end():]
    verdict = VERDICT.match(line)
    if verdict:
        style = phase_style(verdict.group("word")) or ""
        start, end = verdict.span("word")
        return line[:start] + paint(line[start:end], f"{BOLD};{style}") + line[end:]
    return line


def emit(line: str, stream: IO[str] | None = None) -> None:
    """Print one line made safe (:func:`pipeline_ci.textsafe.safe_line`), coloured when :func:`colour`; flush."""
    from .textsafe import safe_line

    out = sys.stdout if stream is None else stream
    text = safe_line(line)
    if colour(out):
        text = style_line(text)
    with WRITE_LOCK:
        if _before_write:  # a live progress line (pipeline_ci.progress) erases itself first
            _before_write[0]()
        out.write(text + "\n")
        out.flush()


WRITE_LOCK = RLock()
"""Held while :func:`emit` writes a line; :mod:`pipeline_ci.progress` holds it to draw its live line."""
_before_write: list[Callable[[], None]] = []


def before_write(hook: Callable[[], None] | None) -> None:
    """Call ``hook`` before every line :func:`emit` prints (``None``: no more): the live progress line erases
    itself so that the line is not printed after it."""
    with WRITE_LOCK:
        _before_write[:] = [hook] if hook else []


def debug(message: str) -> None:
    """With ``-v``: ``debug: <message>`` on stderr. Never pass a credential (tokens, keys, signed headers)."""
    if verbose():
        emit(f"debug: {message}", sys.stderr)


@contextmanager
def timed(what: str) -> Iterator[dict[str, str]]:
    """With ``-v``: ``debug: <what> (<ms> ms)`` after the block, plus what the block put in the yielded mapping
    (e.g. ``info["request_id"] = ...``); the line is printed even when the block raises."""
    info: dict[str, str] = {}
    started = time.monotonic()
    try:
        yield info
    finally:
        if verbose():
            extra = "".join(f", {key.replace('_', ' ')} {value}" for key, value in info.items() if value)
            debug(f"{what} ({(time.monotonic() - started) * 1000:.0f} ms{extra})")


def traced(what: str, call: Callable[..., T], *args: Any, detail: Callable[[T], str] | None = None, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``; with ``-v`` also ``debug: <what>: <detail> (<ms> ms)``, the hook the platform
    clients call around each request (``detail(result)``: e.g. ``request id ...``; a failure is named by its
    exception type only, since an exception message may quote a request). Without ``-v`` it only calls."""
    if not verbose():
        return call(*args, **kwargs)
    started = time.monotonic()
    try:
        result = call(*args, **kwargs)
    except BaseException as exc:
        debug(f"{what}: {type(exc).__name__} ({(time.monotonic() - started) * 1000:.0f} ms)")
        raise
    took = (time.monotonic() - started) * 1000
    try:
        extra = detail(result) if detail else ""
    except Exception:  # a response without the expected fields: the timing is still worth printing
        extra = ""
    debug(f"{what}: {extra + ' ' if extra else ''}({took:.0f} ms)")
    return result
