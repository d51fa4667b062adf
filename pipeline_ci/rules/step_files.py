"""Safe, memoised access to the non-YAML files of step folders (``requirements.txt``, ``1/pipeline_step.py``).

The project model loads only YAML; rules that look at other step files go through :func:`read`,
which never leaves the project: step folders with ``escapes=True`` are skipped, a file that
resolves (through a symlink) outside the project root, is not a regular file (a FIFO, a device)
or is larger than :data:`MAX_BYTES` is not opened and comes back with a ``problem`` instead of
text. Each file is read at most once per lint run (cached in ``ctx.memo``). Nothing is imported
or executed.
"""

from __future__ import annotations

import ast
import io
import os
import stat
import tokenize
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..discovery import display, real_path
from ..project import StepDir
from ..records import NamedTuple
from ..yamldoc import Document, JsonPath, LoadError, Pos, decode
from .base import ClarifaiContext, Hit, at

SCRIPT = "1/pipeline_step.py"
REQUIREMENTS = "requirements.txt"
MAX_BYTES = 1024 * 1024


class StepFile(NamedTuple):
    """One step file: its decoded ``text``, or why it could not be read (``problem``).

    ``text is None and problem is None`` means the file does not exist. ``problem_pos`` is set
    when the problem lies inside the file (a decoding error); otherwise the file was not opened
    and the problem must be reported somewhere else (see :func:`anchor`).
    """

    file: str
    text: str | None = None
    problem: str | None = None
    problem_pos: Pos | None = None
    outside: bool = False  # a symlink leading out of the project (not read)

    @property
    def missing(self) -> bool:
        return self.text is None and self.problem is None


def step_folders(ctx: ClarifaiContext) -> Iterator[StepDir]:
    """Step folders that may be opened: inside the project, existing, each real folder once (found once per lint
    run: a dozen rules ask)."""
    folders: list[StepDir] | None = ctx.memo.get("step_folders")
    if folders is None:
        folders = ctx.memo["step_folders"] = []
        seen: set[Path] = set()
        for step in ctx.project.steps:
            if step.escapes or not step.exists:
                continue
            if step.resolved not in seen:
                seen.add(step.resolved)
                folders.append(step)
    return iter(folders)


def read(ctx: ClarifaiContext, step: StepDir, rel: str, *, python: bool = False) -> StepFile:
    """The file ``rel`` of ``step`` (``python=True`` honours a PEP 263 coding cookie)."""
    cache: dict[tuple[str, str], StepFile] = ctx.memo.setdefault("step_files", {})
    key = (str(step.path), rel)
    if key not in cache:
        cache[key] = _read(step, rel, python)
    return cache[key]


def syntax_tree(ctx: ClarifaiContext, step: StepDir, got: StepFile) -> ast.Module | Exception:
    """The parsed ``got.text`` (a step script), or the exception parsing raised; parsed once per lint run."""
    cache: dict[str, ast.Module | Exception] = ctx.memo.setdefault("syntax_trees", {})
    if got.file not in cache:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[got.file] = ast.parse(got.text or "", got.file)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            cache[got.file] = exc
    return cache[got.file]


def _read(step: StepDir, rel: str, python: bool) -> StepFile:
    path = step.path / rel
    shown = display(path)
    if step.escapes or not os.path.lexists(path):
        return StepFile(shown)
    boundary = step.boundary or step.path.resolve()
    try:
        real = real_path(step.path, rel)
        if not real.exists():
            raise FileNotFoundError(rel)
    except (OSError, RuntimeError):
        return StepFile(shown, problem=f"{rel} is a broken symlink")
    if not (real == boundary or real.is_relative_to(boundary)):
        return StepFile(shown, problem=f"{rel} is a symlink to a file outside the project; it was not read",
                        outside=True)
    try:
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            return StepFile(shown, problem=f"{rel} is not a regular file")
        if info.st_size > MAX_BYTES:
            problem = f"{rel} is {info.st_size:,} bytes; files over {MAX_BYTES:,} bytes are not read"
            return StepFile(shown, problem=problem)
        with open(real, "rb") as fh:
            # sized by the stat (read(n) allocates n bytes first); a file that grew since is read up to the limit
            raw = fh.read(min(info.st_size, MAX_BYTES) + 1)
            if len(raw) > info.st_size:
                raw += fh.read(MAX_BYTES + 1 - len(raw))
    except OSError as exc:
        return StepFile(shown, problem=f"{rel} cannot be read: {exc.strerror or exc}")
    try:
        return StepFile(shown, text=_decode(raw, shown, python))
    except LoadError as exc:
        return StepFile(shown, problem=f"{rel}: {exc.message}", problem_pos=exc.pos)


def _decode(raw: bytes, shown: str, python: bool) -> str:
    if python:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:
            raise LoadError(str(exc.msg)) from None
        if encoding not in ("utf-8", "utf-8-sig"):
            if b"\0" in raw:
                return decode(raw, shown)  # raises with the position of the NUL byte
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(f"not valid {encoding} (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    return decode(raw, shown)


def anchor(ctx: ClarifaiContext, step: StepDir) -> tuple[Document, JsonPath] | None:
    """Where to report a problem of a step folder as a whole: its ``step_directories`` entry, else its config."""
    config = ctx.project.config
    if step.listed and step.index is not None and config is not None:
        return config, ("pipeline", "step_directories", step.index)
    if step.config is not None:
        return step.config, ("pipeline_step",) if isinstance(step.config.data, dict) else ()
    return None


def problem_hit(ctx: ClarifaiContext, step: StepDir, got: StepFile) -> Hit | None:
    """A hit for ``got.problem``: inside the file when it has a position there, else at :func:`anchor`."""
    if got.problem is None:
        return None
    if got.problem_pos is not None:
        return Hit(got.file, got.problem_pos, got.problem)
    where = anchor(ctx, step)
    return at(*where, f"step folder {step.entry!r}: {got.problem}") if where else None
