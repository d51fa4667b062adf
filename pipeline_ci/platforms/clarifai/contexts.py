"""Clarifai credentials the way users already have them: the environment first, then the Clarifai CLI's config.

``clarifai login`` writes ``~/.config/clarifai/config`` (``Config.to_yaml`` in ``clarifai/utils/config.py`` of
Clarifai/clarifai-python)::

    current_context: prod
    contexts:
      prod:
        CLARIFAI_PAT: ...          # or ENVVAR: read from the environment variable of that name
        CLARIFAI_USER_ID: alice
        CLARIFAI_API_BASE: https://api.clarifai.com

For each of the PAT, the API base and the user id, the value comes from (first wins): the environment variable
(``CLARIFAI_PAT``, ``CLARIFAI_API_BASE``, ``CLARIFAI_USER_ID``), then the chosen context (``--context NAME``,
else ``current_context``) under its ``CLARIFAI_*`` name or its lower-case name, as the SDK's ``Context`` reads
it. :func:`resolve` returns the effective environment (the one every Clarifai client reads) and where each value
came from; :func:`describe` says so in one line that never holds a secret's value.

A config file that does not parse, or a ``--context`` it does not have, is a usage error naming the file; a
missing file is fine unless ``--context`` asks for one of its contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import UsageError

KEYS = ("CLARIFAI_PAT", "CLARIFAI_API_BASE", "CLARIFAI_USER_ID")
LABELS = {"CLARIFAI_PAT": "PAT", "CLARIFAI_API_BASE": "API base", "CLARIFAI_USER_ID": "user id"}
ENVVAR = "ENVVAR"  # the SDK's placeholder: take the value from the environment variable


def config_path(env: Mapping[str, str]) -> Path:
    """``~/.config/clarifai/config`` (``HOME`` from ``env``, as the SDK's ``Path.home()``)."""
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".config" / "clarifai" / "config"


@dataclass(frozen=True)
class Resolved:
    env: dict[str, str]  # the environment with the values from the context filled in
    sources: dict[str, str] = field(default_factory=dict)  # key -> "environment" or "context 'x' of <file>"


def resolve(env: Mapping[str, str], context: str | None = None, path: Path | None = None) -> Resolved:
    """The effective environment for Clarifai calls and the source of each credential (see the module docstring)."""
    path = path or config_path(env)
    out = dict(env)
    sources = {key: "environment" for key in KEYS if env.get(key, "").strip()}
    if len(sources) == len(KEYS) and context is None:
        return Resolved(out, sources)
    name, values = _context(path, context)
    if name is None:
        return Resolved(out, sources)
    where = f"context {name!r} of {path}"
    for key in KEYS:
        if key in sources:
            continue
        raw = values.get(key, values.get(key[len("CLARIFAI_"):].lower()))
        if raw is None or raw == "":
            continue
        if raw == ENVVAR:
            raise UsageError(f"{path}: context {name!r} says {key}: ENVVAR but {key} is not set",
                             hint=f"export {key}, or store it in the context with `clarifai login`")
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise UsageError(f"{path}: context {name!r}: {key} must be a string")
        out[key], sources[key] = str(raw), where
    return Resolved(out, sources)


def _context(path: Path, wanted: str | None) -> tuple[str | None, dict]:
    """The chosen context's name and values; (None, {}) when there is no config file and none was asked for."""
    if not path.is_file():
        if wanted is not None:
            raise UsageError(f"--context {wanted}: no Clarifai CLI config at {path}",
                             hint="create one with `clarifai login`, or set CLARIFAI_PAT")
        return None, {}
    # yamldoc imports PyYAML first (a cheaper compilation of its reader's pattern, see there) and picks its safe loader
    # (the C one when PyYAML has it): the same data as yaml.safe_load
    from ...yamldoc import Loader

    # isort: split
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the Clarifai CLI config: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UsageError(f"{where}: the Clarifai CLI config is not valid YAML") from None
    contexts = data.get("contexts") if isinstance(data, dict) else None
    if not isinstance(contexts, dict):
        raise UsageError(f"{path}: the Clarifai CLI config has no `contexts` mapping",
                         hint="re-create it with `clarifai login`")
    name = wanted if wanted is not None else data.get("current_context")
    if not isinstance(name, str) or not name:
        return None, {}
    if name not in contexts:
        if wanted is None and name == "_empty_":
            return None, {}
        known = ", ".join(sorted(str(k) for k in contexts)) or "none"
        raise UsageError(f"{path}: no context {name!r} (contexts: {known})",
                         hint="pick one with --context NAME or `clarifai config use-context NAME`")
    values = contexts[name]
    if isinstance(values, dict) and isinstance(values.get("env"), dict):
        values = values["env"]
    return name, values if isinstance(values, dict) else {}


def describe(resolved: Resolved) -> str:
    """One line: where the PAT, API base and user id come from (never their values)."""
    parts = [f"{LABELS[key]} from {resolved.sources[key]}" for key in KEYS if key in resolved.sources]
    return "Clarifai credentials: " + ("; ".join(parts) if parts else "none found")


def from_context(resolved: Resolved) -> bool:
    """Whether any value came from the Clarifai CLI config (worth telling the user)."""
    return any(source != "environment" for source in resolved.sources.values())

