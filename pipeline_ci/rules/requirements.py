"""Every line of a step's ``requirements.txt`` is something pip understands.

The step image runs ``pip install -r requirements.txt`` at build time, after the upload: a bad
line (``requests=2.0``, ``numpy >= 1.0 scipy``) fails the build (pip: ``Invalid requirement``)
only once the pipeline version is being created. Lines are read as pip does: ``\\`` joins
continuation lines, ``#`` at the start or after whitespace starts a comment, ``${VAR}`` lines are
not checked. Allowed besides PEP 508 requirements (``pkg[extra]>=1; python_version < "3.12"``,
``pkg @ https://...``): pip options (``-r``, ``-c``, ``-e``, ``-i``/``--index-url``,
``--extra-index-url``, ``-f``/``--find-links``, ``--no-index``, ``--pre``, ...), per-requirement
``--hash``/``--config-settings``/``--global-option``, URLs (``git+https://...``) and local paths
(``./pkg``, archives). Errors are reported at the offending line and column.

A warning is given when the file does not end with a newline and no line pins ``clarifai``:
``clarifai pipeline upload`` then appends ``clarifai==<version>`` and glues it onto the last line
(``requests==2.32.0clarifai==12.5.0``), corrupting the file.

Passing project::

    # file: stepA/requirements.txt
    # pinned for reproducible builds
    requests==2.32.0  # HTTP
    numpy>=1.26,<3; python_version >= "3.11"
    --extra-index-url https://download.pytorch.org/whl/cpu
    torch==2.3.0 \\
        --hash=sha256:0123456789abcdef
    git+https://github.com/org/repo.git@v1#egg=repo
    clarifai==12.5.0

Failing project::

    # file: stepA/requirements.txt
    requests=2.32.0  # <-- Invalid requirement: '=' is not a version operator
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from ..lazyre import lazy_re
from ..project import StepDir
from ..yamldoc import Pos
from .base import ClarifaiContext, Hit
from .step_files import REQUIREMENTS, StepFile, problem_hit, read, step_folders

ID = "C12"
NAME = "requirements"
SEVERITY = "error"
TARGET = "clarifai"

COMMENT_RE = lazy_re(r"(^|\s+)#.*$")  # pip's own
CLARIFAI_PIN_RE = lazy_re(r"^clarifai([>=<!\s]|$)")  # the SDK's test for an existing pin
URL_RE = lazy_re(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:", re.I)
ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")
# pip's requirement-file options (pip/_internal/req/req_file.py): long name -> takes a value
OPTIONS = {
    "--index-url": True, "--pypi-url": True, "--extra-index-url": True, "--no-index": False,
    "--constraint": True, "--requirement": True, "--editable": True, "--find-links": True,
    "--no-binary": True, "--only-binary": True, "--prefer-binary": False, "--require-hashes": False,
    "--pre": False, "--trusted-host": True, "--use-feature": True,
    # per-requirement options
    "--global-option": True, "--config-settings": True, "--hash": True,
}  # fmt: skip
SHORT = {"-i": "--index-url", "-c": "--constraint", "-r": "--requirement", "-e": "--editable",
         "-f": "--find-links", "-C": "--config-settings"}  # fmt: skip
HASH_RE = lazy_re(r"^[A-Za-z0-9]+:[0-9A-Fa-f]+$")
# The everyday requirement (``name``, ``name==1.2``, ``name>=1,<2``), which ``packaging`` certainly accepts, is
# recognised without importing it (a tenth of a small project's lint); anything else goes to ``packaging``.
_VERSION = r"\s*(?:(?:==|!=|<=|>=|<|>)\s*[0-9]+(?:\.[0-9]+)*|~=\s*[0-9]+(?:\.[0-9]+)+)\s*"
SIMPLE_RE = lazy_re(rf"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:{_VERSION}(?:,{_VERSION})*)?")


def logical_lines(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """``(line, col, content, joined)`` of each non-empty logical line, comments removed (as pip does)."""
    lines = text.splitlines()
    joined: list[tuple[int, str, bool]] = []
    pending: list[str] = []
    first = 0
    for number, line in enumerate(lines, start=1):
        if line.endswith("\\") and not COMMENT_RE.match(line):
            first = first if pending else number
            pending.append(line.strip("\\"))
            continue
        if COMMENT_RE.match(line):
            line = " " + line
        if pending:
            joined.append((first, "".join([*pending, line]), True))
            pending = []
        else:
            joined.append((number, line, False))
    if pending:
        joined.append((first, "".join(pending), True))
    for start, raw, was_joined in joined:
        content = COMMENT_RE.sub("", raw).strip()
        if content:
            original = lines[start - 1]
            yield start, len(original) - len(original.lstrip()) + 1, content, was_joined


def option_problem(tokens: list[str]) -> str | None:
    """Why pip's option parser would reject these tokens, if it would (stray words are ignored, as by pip)."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            return None
        if not token.startswith("-") or token == "-":
            continue
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            matches = [o for o in OPTIONS if o == name] or [o for o in OPTIONS if o.startswith(name)]
            if len(matches) != 1:
                return f"no such option: {name}" if not matches else f"ambiguous option: {name}"
            name, has_value = matches[0], bool(eq)
        else:
            short = SHORT.get(token[:2])
            if short is None:
                return f"no such option: {token[:2]}"
            name, value, has_value = short, token[2:], len(token) > 2
        if OPTIONS[name] and not has_value:
            if i >= len(tokens):
                return f"{name} option requires 1 argument"
            value = tokens[i]
            i += 1
        elif not OPTIONS[name] and has_value:
            return f"{name} option does not take a value"
        if name == "--hash" and not HASH_RE.match(value):
            return f"--hash={value}: arguments to --hash must be a hash name followed by a value (sha256:<hex>)"
    return None


def requirement_problem(req: str) -> tuple[str, int] | None:
    """``(message, offset)`` when ``req`` is neither a PEP 508 requirement, a URL nor a local path."""
    if "${" in req:
        return None  # pip expands ${VAR} from the environment first
    if SIMPLE_RE.fullmatch(req):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(req)
        return None
    except InvalidRequirement as exc:
        name = re.split(r";\s", req, maxsplit=1)[0].strip()
        if URL_RE.match(name) or name.startswith((".", "/", "~")) or "/" in name or "\\" in name:
            return None
        if name.lower().endswith(ARCHIVES):
            return None
        lines = str(exc).splitlines()
        caret = lines[-1] if len(lines) > 1 else ""
        marks = [i for i, ch in enumerate(caret) if ch == "^"]
        offset = marks[0] - 4 if marks and marks[0] >= 4 else 0
        return f"Invalid requirement: {req!r}: {lines[0] if lines else exc}", offset


def line_problems(text: str) -> Iterator[tuple[int, int, str]]:
    for line, col, content, joined in logical_lines(text):
        if content.startswith("-"):
            try:
                tokens = shlex.split(content)
            except ValueError as exc:
                yield line, col, f"cannot parse options {content!r}: {exc}"
                continue
            if problem := option_problem(tokens):
                yield line, col, f"{problem} (pip rejects the requirements file)"
            continue
        words = content.split(" ")
        cut = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
        req, opts = " ".join(words[:cut]), " ".join(words[cut:])
        if found := requirement_problem(req):
            message, offset = found
            yield line, col + (0 if joined else offset), message
            continue
        try:
            tokens = shlex.split(opts)
        except ValueError as exc:
            yield line, col, f"cannot parse options {opts!r}: {exc}"
            continue
        if problem := option_problem(tokens):
            yield line, col, f"{problem} (pip rejects the requirements file)"


def newline_hit(got: StepFile) -> Hit | None:
    text = got.text or ""
    if not text or text.endswith(("\n", "\r")):
        return None
    lines = text.splitlines()
    if any(CLARIFAI_PIN_RE.match(line.strip()) for line in lines):
        return None
    last = lines[-1]
    return Hit(
        got.file,
        Pos(len(lines), len(last) + 1),
        "requirements.txt does not end with a newline: `clarifai pipeline upload` appends 'clarifai==<version>' "
        f"and would glue it onto this line ({last.strip()!r} + 'clarifai==12.5.0'); add a final newline "
        "(or pin clarifai yourself)",
        severity="warning",
    )


def check_step(ctx: ClarifaiContext, step: StepDir) -> Iterator[Hit]:
    got = read(ctx, step, REQUIREMENTS)
    if got.missing:
        return  # not required: the SDK creates it
    if got.text is None:
        if hit := problem_hit(ctx, step, got):
            yield hit
        return
    for line, col, message in line_problems(got.text):
        yield Hit(got.file, Pos(line, col), message)
    if hit := newline_hit(got):
        yield hit


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in step_folders(ctx):
        yield from check_step(ctx, step)
