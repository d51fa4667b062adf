"""Every step folder has a ``1/pipeline_step.py`` that compiles.

The Clarifai SDK refuses a step folder without its script (``FileNotFoundError: Required file
'1/pipeline_step.py' not found in <dir>``), and a script with a syntax error is uploaded and
built anyway, failing only when the pipeline runs. The script is compiled with the linter's own
Python (``compile(..., dont_inherit=True)``) and never imported or executed; syntax errors are
reported at their line and column. Scripts that cannot be read safely (a symlink leaving the
project, not a regular file, over 1 MiB, not decodable) are reported too. A missing script is
reported at the folder's ``step_directories`` entry.

Passing project::

    # file: stepA/1/pipeline_step.py
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    print(parser.parse_args().input_text)

Failing project::

    # file: stepA/1/pipeline_step.py
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    print(parser.parse_args().input_text  # <-- '(' was never closed

Failing project::

    # file: config.yaml
    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      step_directories:
      - stepA  # <-- Required file '1/pipeline_step.py' not found
      - stepB
      orchestration_spec:
        argo_orchestration_spec: |
          apiVersion: argoproj.io/v1alpha1
          kind: Workflow
          spec:
            entrypoint: main
            templates:
            - name: main
              steps: []
    # file: stepA/1/pipeline_step.py
    (deleted)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

from ..yamldoc import Pos
from .base import ClarifaiContext, Hit, at
from .step_files import SCRIPT, anchor, problem_hit, read, step_folders, syntax_tree

ID = "C13"
NAME = "step-script"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in step_folders(ctx):
        got = read(ctx, step, SCRIPT, python=True)
        if got.missing:
            where = anchor(ctx, step)
            if where:
                yield at(*where, f"Required file '{SCRIPT}' not found in {step.entry} (the SDK refuses the step)")
            continue
        if got.text is None:
            if hit := problem_hit(ctx, step, got):
                yield hit
            continue
        try:
            tree = syntax_tree(ctx, step, got)
            if isinstance(tree, Exception):
                raise tree
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(tree, got.file, "exec", dont_inherit=True)  # the compiler's own checks too
        except SyntaxError as exc:
            line = exc.lineno or 1
            col = exc.offset or 1
            yield Hit(got.file, Pos(line, max(col, 1)), f"syntax error in {SCRIPT}: {exc.msg}")
        except (ValueError, RecursionError, MemoryError) as exc:
            yield Hit(got.file, Pos(1, 1), f"{SCRIPT} cannot be compiled: {exc or type(exc).__name__}")
