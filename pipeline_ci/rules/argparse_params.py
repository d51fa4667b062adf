"""The step script's argparse options match the step's declared input parameters.

Clarifai starts a step as ``python 1/pipeline_step.py --<name> <value>`` for each argument, the local
executor as ``python 1/pipeline_step.py --<name>=<value>`` (argparse reads both the same way). A declared
``pipeline_step_input_params`` entry ``X`` without an ``add_argument("--X", ...)`` makes argparse exit 2
(``unrecognized arguments: --X``), unless the script uses ``parse_known_args``; an option declared
``required=True`` that is not an input parameter is never passed, so argparse exits 2 (``the following
arguments are required``).
The script is only parsed (``ast.parse``), never imported. Only literal option strings are
understood: scripts without ``add_argument`` calls are skipped, and so is the first check when an
option name is computed. A unique prefix (``--input`` for ``--input_text``) counts, as argparse
accepts abbreviations.

Passing project::

    # file: stepA/1/pipeline_step.py
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    parser.add_argument("--verbose", action="store_true")
    print(parser.parse_args().input_text)

Failing project::

    # file: stepA/1/pipeline_step.py
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input-text", required=True)  # <-- --input_text is passed, not --input-text
    print(parser.parse_args().input_text)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..project import StepDir
from ..yamldoc import JsonPath, Pos
from .base import ClarifaiContext, Hit, at
from .step_files import SCRIPT, read, step_folders, syntax_tree

ID = "C14"
NAME = "argparse-params"
SEVERITY = "warning"
TARGET = "clarifai"


class Options:
    """What the script's ``add_argument`` calls declare."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self) -> None:
        self.long: set[str] = set()  # option names without the leading "--"
        self.required: list[tuple[list[str], Pos]] = []
        self.calls = 0
        self.dynamic = False  # an option string that is not a literal
        self.known_args = False  # parse_known_args() is called


def scan(tree: ast.AST) -> Options:
    out = Options()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "parse_known_args":
            out.known_args = True
        if node.func.attr != "add_argument":
            continue
        out.calls += 1
        names: list[str] = []
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.startswith("--"):
                    names.append(arg.value[2:])
            else:
                out.dynamic = True
        out.long.update(names)
        required = any(
            kw.arg == "required" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in node.keywords
        )
        if required and names:
            out.required.append((names, Pos(node.lineno, node.col_offset + 1)))
    return out


def declared(step: StepDir) -> list[tuple[int, str]]:
    """``(index, name)`` of the step's input parameters (mappings with a string name, or plain strings)."""
    params = step.config.get(("pipeline_step_input_params",)) if step.config else None
    out = []
    for i, param in enumerate(params if isinstance(params, list) else []):
        name = param.get("name") if isinstance(param, dict) else param
        if isinstance(name, str) and name:
            out.append((i, name))
    return out


def resolve(options: Options, name: str) -> str | None:
    """The option argparse matches ``--name`` to: the exact one, else a unique abbreviation."""
    if name in options.long:
        return name
    matches = [o for o in options.long if o.startswith(name)]
    return matches[0] if len(matches) == 1 else None


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in step_folders(ctx):
        if step.config is None:
            continue
        got = read(ctx, step, SCRIPT, python=True)
        if got.text is None:
            continue
        tree = syntax_tree(ctx, step, got)
        if isinstance(tree, Exception):
            continue  # step-script reports it
        options = scan(tree)
        if options.calls == 0:
            continue
        params = declared(step)
        if not options.dynamic and not options.known_args:
            for i, name in params:
                if resolve(options, name) is None:
                    path: JsonPath = ("pipeline_step_input_params", i)
                    if isinstance(step.config.get(path), dict):
                        path = (*path, "name")
                    yield at(
                        step.config,
                        path,
                        f"input parameter {name!r} is passed as '--{name} <value>' but {SCRIPT} declares no "
                        f"'--{name}' option: argparse would exit 2 (unrecognized arguments: --{name})",
                    )
        passed = {resolve(options, name) for _, name in params}
        for options_of_call, pos in options.required:
            if not passed.intersection(options_of_call):
                flag = f"--{options_of_call[0]}"
                yield Hit(
                    got.file,
                    pos,
                    f"required option {flag!r} is not a declared input parameter of step {step.entry!r}, so it is "
                    f"never passed: argparse would exit 2 (the following arguments are required: {flag})",
                )
