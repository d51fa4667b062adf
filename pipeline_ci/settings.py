"""User configuration: ``.pipeline-ci.yaml`` or ``[tool.pipeline-ci]`` in ``pyproject.toml``.

Looked up from each project's folder upwards (the first file found wins), or given with
``--config``. Keys (both spellings, ``-`` or ``_``, are accepted)::

    disable: [A11, unknown-key]          # rule IDs or names
    severity: {S02: error, C10: warning} # per-rule severity
    ignore: ["examples/broken/**"]       # glob patterns (relative to the config file) of paths not to lint
    require-fresh-locks: true            # stale step lockfiles are errors
    strict: true                         # unknown keys in the Argo spec are errors
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KNOWN = {"disable", "severity", "ignore", "require-fresh-locks", "strict"}


class SettingsError(Exception):
    """The configuration file is invalid (a usage error, exit code 2)."""


@dataclass
class Settings:
    source: Path | None = None
    disable: frozenset[str] = frozenset()
    severity: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    require_fresh_locks: bool = False
    strict: bool = False

    def ignored(self, path: Path) -> bool:
        base = self.source.parent if self.source else Path.cwd()
        try:
            rel = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return False
        return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel + "/", pat) for pat in self.ignore)


def _read(path: Path) -> dict[str, Any] | None:
    if path.name == "pyproject.toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: {exc}") from None
        section = data.get("tool", {}).get("pipeline-ci")
        return section if isinstance(section, dict) else None
    from .yamldoc import LoadError, load_file

    try:
        data = load_file(path).data
    except LoadError as exc:
        raise SettingsError(f"{path}:{exc.pos.line}:{exc.pos.col}: {exc.message}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping of settings")
    return data


def parse(raw: dict[str, Any], source: Path, known_rules: set[str]) -> Settings:
    """Validate a settings mapping; unknown keys and rule names are errors."""
    raw = {str(k).replace("_", "-"): v for k, v in raw.items()}
    unknown = set(raw) - KNOWN
    if unknown:
        raise SettingsError(f"{source}: unknown setting(s) {sorted(unknown)}; known: {sorted(KNOWN)}")
    disable = raw.get("disable", [])
    severity = raw.get("severity", {})
    ignore = raw.get("ignore", [])
    if not isinstance(disable, list) or not isinstance(severity, dict) or not isinstance(ignore, list):
        raise SettingsError(f"{source}: 'disable' and 'ignore' must be lists, 'severity' a mapping")
    for rule in [*disable, *severity]:
        if str(rule) not in known_rules:
            raise SettingsError(f"{source}: unknown rule {rule!r}")
    for rule, level in severity.items():
        if level not in ("error", "warning"):
            raise SettingsError(f"{source}: severity of {rule} must be 'error' or 'warning', not {level!r}")
    for flag in ("require-fresh-locks", "strict"):
        if not isinstance(raw.get(flag, False), bool):
            raise SettingsError(f"{source}: '{flag}' must be true or false")
    return Settings(
        source=source,
        disable=frozenset(map(str, disable)),
        severity={str(k): v for k, v in severity.items()},
        ignore=tuple(map(str, ignore)),
        require_fresh_locks=raw.get("require-fresh-locks", False),
        strict=raw.get("strict", False),
    )


def load(path: Path | None, known_rules: set[str]) -> Settings:
    """Settings from ``path`` (None → defaults)."""
    if path is None:
        return Settings()
    if not path.is_file():
        raise SettingsError(f"{path}: no such settings file")
    return parse(_read(path) or {}, path, known_rules)
