"""A committed bundle is exactly what its Python pipeline file generates.

A Python-defined pipeline (``Pipeline``, ``@step``, ``step_ref`` from ``clarifai.runners.pipelines``) is compiled to
a YAML bundle; a repository may also commit that bundle: ``generated-<pipeline id>/`` next to the file (where
``clarifai pipeline upload FILE.py`` writes it), or the folder a ``dsl:`` setting names with ``bundle:``. When the
committed files differ from what the file generates now, whoever uploads the committed folder
(``clarifai pipeline upload generated-<id>``) ships code that is not in the Python file. Each generated file that
is missing from the committed bundle or differs from it is reported at its first differing line, and so is a
file of a generated step folder that the Python file does not generate (it changes the step's content hash);
``config-lock.yaml`` files and files outside the generated step folders are not compared. The message names the
command that regenerates the bundle (run in the folder of the Python file, where pipeline-ci compiles it: relative
``requirements=`` paths resolve there; with ``ruff`` on ``PATH`` or not, as in CI, since the SDK formats step
scripts with it when it finds it). ``pipeline-ci upload`` to a remote backend rewrites the committed bundle
itself before uploading, like the SDK, so this error does not stop it.

Checked when ``lint`` is given the Python file, or a folder whose settings name it (``dsl:``).

Passing project::

    # file: .pipeline-ci.yaml
    dsl: flows/pipeline.py  # no flows/generated-demo/ is committed: nothing to drift from
    # file: flows/pipeline.py
    from clarifai.runners.pipelines import Pipeline, step


    @step(id="shout")
    def shout(input_text: str) -> str:
        return input_text.upper()


    with Pipeline(id="demo", user_id="u1", app_id="a1") as pipeline:
        shout(input_text=pipeline.input("input_text", "hi"))

Failing project::

    # file: .pipeline-ci.yaml
    dsl:
    - file: pipeline.py
      bundle: .
    # file: pipeline.py
    from clarifai.runners.pipelines import Pipeline, step


    @step(id="stepA")
    def step_a(input_text: str) -> str:
        return input_text.upper()


    with Pipeline(id="demo", user_id="u1", app_id="a1") as pipeline:
        step_a(input_text=pipeline.input("input_text", "hi"))
    # file: stepA/requirements.txt
    requests  # <-- pipeline.py generates no requirement
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..discovery import display
from ..hashing import STATE_DIR as STATE
from ..project import LOCK
from ..yamldoc import Pos
from .base import ClarifaiContext, Hit

ID = "D01"
NAME = "dsl-drift"
SEVERITY = "error"
TARGET = "clarifai"


def regenerate_command(source: Path, committed: Path) -> str:
    """``clarifai pipeline compile`` run from the folder of the file (relative ``requirements=`` paths resolve
    against the working directory, and pipeline-ci compiles there too)."""
    folder = source.parent
    out = os.path.relpath(committed, folder)
    command = f"clarifai pipeline compile {source.name} --output-dir {out}"
    here = display(folder)
    return command if here in (".", "") else f"(cd {here} && {command})"


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != STATE}


def _first_difference(new: bytes, old: bytes) -> int:
    a, b = new.splitlines(), old.splitlines()
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return number
    return min(len(a), len(b)) + 1 if len(a) != len(b) else max(len(b), 1)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    parts = ctx.project.root.parts
    if len(parts) < 4 or parts[-4:-2] != (STATE, "dsl"):  # not a generated bundle: nothing to import or read
        return
    from ..dsl.resolve import linked

    found = linked(ctx.project.root)
    if found is None:
        return
    source, committed = found
    if not (committed / "config.yaml").is_file():
        return  # nothing committed: the generated bundle is the only one
    fix = f"regenerate it: {regenerate_command(source, committed)} (or pipeline-ci upload --backend clarifai " \
          f"{display(source)}, which also uploads it)"
    generated = _files(ctx.project.root)
    steps = {rel.split("/", 1)[0] for rel in generated if "/" in rel}
    for rel, path in generated.items():
        target = committed / rel
        try:
            old = target.read_bytes()
        except OSError:
            yield Hit(display(committed / "config.yaml"), Pos(1, 1),
                      f"{display(target)} is missing: {display(source)} generates it; {fix}")
            continue
        new = path.read_bytes()
        if new != old:
            line = _first_difference(new, old)
            yield Hit(display(target), Pos(line, 1),
                      f"differs from what {display(source)} generates (from line {line}); {fix}")
    for step in sorted(steps):
        folder = committed / step
        if not folder.is_dir():
            continue
        for rel, path in _files(folder).items():
            if path.name != LOCK and f"{step}/{rel}" not in generated:
                yield Hit(display(path), Pos(1, 1),
                          f"{display(source)} does not generate this file of step folder {step} (it changes the "
                          f"step's content hash); delete it and {fix}")
