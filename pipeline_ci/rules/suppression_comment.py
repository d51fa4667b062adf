"""Inline ``# pipeline-ci: disable=...`` comments name rules that exist, in a list that parses.

A suppression naming an unknown rule (a typo such as ``A9`` for ``A09``) silences nothing, so it is reported
at that name, with the closest rule ID or name. A list that does not parse (``disable=`` with nothing after it,
``disable=A09.``) is reported too. Rule keys are IDs or names exactly as ``pipeline-ci rules`` prints them, or
``all``; a free-text reason may follow the list after a blank (``disable=A09 -- the name is generated``). Only
real comments count: ``"x # pipeline-ci: disable=A28"`` is a quoted string. Checked in every YAML file of the
project, the embedded Argo spec included.

Passing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: 500m  # pipeline-ci: disable=C11,unknown-key -- reviewed

Failing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    pipeline_step_compute_info:
      cpu_limit: 500m  # pipeline-ci: disable=C1l  # <-- no rule C1l
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import suppress
from ..yamldoc import Pos
from .base import ClarifaiContext, Hit

ID = "F03"
NAME = "suppression-comment"
SEVERITY = "warning"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    from . import by_key, for_target

    loaded: set[str] | None = None  # the keys of the Clarifai rules, imported already by this lint
    known: set[str] | None = None  # every rule's (importing every rule module): only for a key not in ``loaded``
    for doc in ctx.project.file_documents():
        for directive in suppress.comments(doc.lines):
            if loaded is None:
                loaded = {key for rule in for_target(TARGET) for key in (rule.ID, rule.NAME)} | {"all"}
            what = f"`# pipeline-ci: {directive.kind}=`"
            for key, col in directive.keys:
                if key in loaded:
                    continue
                if known is None:
                    known = set(by_key()) | {"all"}
                if key not in known:
                    yield Hit(doc.file, Pos(directive.line, col),
                              f"unknown rule {key!r} in {what}: it suppresses nothing{_near(key, known)}")
            if directive.problem:
                yield Hit(doc.file, Pos(directive.line, directive.col), f"{what}: {directive.problem}")


def _near(key: str, known: set[str]) -> str:
    """``"; did you mean 'A09'?"`` (an ID in other case or without its leading zero first, then the closest key), or a
    pointer to the list."""
    as_id = key[:1].upper() + key[1:].zfill(2) if key[1:].isdigit() else key.upper()
    if as_id in known:
        return f"; did you mean {as_id!r}?"
    from ..argo.variables import did_you_mean

    return did_you_mean(key, known) or " (`pipeline-ci rules` lists the rule IDs and names)"
