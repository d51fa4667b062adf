"""Argo's name rules for templates, steps, tasks and parameters, with its own error wording."""

from __future__ import annotations

from .walk import NAME_RE, PARAM_NAME_RE

MAX_NAME_LENGTH = 128
NAME_RULE = "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character"
PARAM_NAME_RULE = (
    "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1"
)


def name_problems(name: str) -> list[str]:
    """Why a template, step or task name is invalid (empty when it is valid)."""
    out = []
    if len(name) > MAX_NAME_LENGTH:
        out.append(f"must be no more than {MAX_NAME_LENGTH} characters")
    if not NAME_RE.match(name):
        out.append(NAME_RULE)
    return out


def param_name_problem(name: str) -> str | None:
    """Why a parameter or artifact name is invalid, or None."""
    return None if PARAM_NAME_RE.match(name) else PARAM_NAME_RULE
