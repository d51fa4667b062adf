"""User configuration: ``.pipeline-ci.yaml`` or ``[tool.pipeline-ci]`` in ``pyproject.toml``.

Looked up from each project's folder upwards (the first file found wins), or given with
``--config``. Keys (both spellings, ``-`` or ``_``, are accepted)::

    disable: [A11, unknown-key]          # rule IDs or names
    severity: {S02: error, C10: warning} # per-rule severity
    ignore: ["examples/broken/**"]       # glob patterns (relative to the config file) of paths not to lint
    require-fresh-locks: true            # stale step lockfiles are errors
    strict: true                         # unknown keys in the Argo spec are errors
    local:                               # limits of ``run --backend local`` (see LocalLimits)
      timeout: 3600                      # seconds for the whole run (``--timeout`` wins)
      max-output-size: 1MiB              # one output parameter file (``result``, ``valueFrom.path``)
      max-log-size: 100MiB               # one step's log on disk; the rest is discarded
      console-lines-per-second: 100      # per step on the console; the rest only in the log
      max-nodes: 10000                   # nodes of one run (recursion, fan-out)
    dsl: pipelines/text.py               # Python-defined pipelines (see pipeline_ci.dsl.resolve)
    python: .venv/bin/python             # the interpreter that compiles them
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path

from .discovery import real
from .errors import UsageError
from .lazyre import lazy_re
from .records import NamedTuple

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

    from .yamldoc import Document

KNOWN = {"disable", "severity", "ignore", "require-fresh-locks", "strict", "local", "dsl", "python"}
MIB = 1024 * 1024
_SIZE = lazy_re(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|K|KB|KIB|M|MB|MIB|G|GB|GIB)?\s*", re.I)
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": MIB, "MB": MIB, "MIB": MIB,
          "G": 1024 * MIB, "GB": 1024 * MIB, "GIB": 1024 * MIB}


class SettingsError(UsageError):
    """The configuration file is invalid (a usage error, exit code 2)."""


class LocalLimits(NamedTuple):
    """Resource limits of a local run (``local:`` in the settings); ``source`` names where they came from."""

    timeout: float = 3600.0
    max_output_size: int = MIB
    max_log_size: int = 100 * MIB
    console_lines_per_second: int = 100
    max_nodes: int = 10_000
    source: str | None = None  # the settings file
    explicit: frozenset[str] = frozenset()  # the keys it sets

    def setting(self, key: str) -> str:
        """How a message names a limit: ``setting local.<key>`` and the file that sets it, if any."""
        return f"setting local.{key} in {self.source}" if key in self.explicit else f"setting local.{key}"


LIMIT_KEYS = {"timeout", "max-output-size", "max-log-size", "console-lines-per-second", "max-nodes"}


def human_size(n: int) -> str:
    """``1048576`` -> ``1 MiB``; ``1536`` -> ``1.5 KiB``."""
    for unit, size in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


def _size(value: Any, where: str) -> int:
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif match:
        number = int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])
    else:
        raise SettingsError(f"{where} must be a size in bytes or like '1MiB', '512KiB', not {value!r}")
    if number < 1:
        raise SettingsError(f"{where} must be at least 1 byte, not {value!r}")
    return number


def parse_local(raw: Any, source: Path, where: Where | None = None) -> LocalLimits:
    """Validate the ``local:`` mapping of a settings file."""
    where = where or Where(source)
    if raw is None:
        return LocalLimits()
    if not isinstance(raw, dict):
        raise SettingsError(f"{where('local')}: 'local' must be a mapping of limits ({', '.join(sorted(LIMIT_KEYS))})")
    raw = {str(k).replace("_", "-"): v for k, v in raw.items()}
    unknown = sorted(set(raw) - LIMIT_KEYS)
    if unknown:
        raise SettingsError(f"{where('local', unknown[0], key=True)}: unknown local setting(s) {unknown}; known: "
                            f"{sorted(LIMIT_KEYS)}")
    values: dict[str, Any] = {}
    timeout = raw.get("timeout", LocalLimits._field_defaults["timeout"])
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 10**9:
        raise SettingsError(f"{where('local', 'timeout')}: local.timeout must be a positive number of seconds, "
                            f"not {timeout!r}")
    values["timeout"] = float(timeout)
    for key in ("max-output-size", "max-log-size"):
        if key in raw:
            values[key.replace("-", "_")] = _size(raw[key], f"{where('local', key)}: local.{key}")
    for key in ("console-lines-per-second", "max-nodes"):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"{where('local', key)}: local.{key} must be a positive integer, not {value!r}")
        values[key.replace("-", "_")] = value
    return LocalLimits(source=str(source), explicit=frozenset(raw), **values)


def local_limits(path: Path | None) -> LocalLimits:
    """The local-run limits of the settings file ``path`` (None: the defaults); only ``local:`` is read."""
    if path is None:
        return LocalLimits()
    data, doc = _load(path)
    raw = {str(k).replace("_", "-"): v for k, v in (data or {}).items()}
    return parse_local(raw.get("local"), path, Where(path, doc))


class Settings:
    """One settings file, parsed (``source`` None: the defaults)."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, source: Path | None = None, disable: frozenset[str] = frozenset(),
                 severity: dict[str, str] | None = None, ignore: tuple[str, ...] = (), require_fresh_locks: bool = False,
                 strict: bool = False):
        self.source = source
        self.disable = disable
        self.severity: dict[str, str] = severity if severity is not None else {}
        self.ignore = ignore
        self.require_fresh_locks = require_fresh_locks
        self.strict = strict

    def ignored(self, path: Path) -> bool:
        base = self.source.parent if self.source else Path.cwd()
        try:
            rel = real(path).relative_to(real(base)).as_posix()
        except ValueError:
            return False
        return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel + "/", pat) for pat in self.ignore)


class Where:
    """``file:line:col`` of a key or value of a settings file, for messages (a ``pyproject.toml``, read without
    positions, or defaults: the file alone). Keys are given as the code spells them (``require-fresh-locks``);
    the file may spell them with ``_``."""

    def __init__(self, path: Path | None, doc: Document | None = None):
        self.path, self.doc = path, doc

    def __call__(self, *keys: Any, key: bool = False) -> str:
        if self.doc is None:
            return str(self.path)
        spelled: list[Any] = []
        node = self.doc.data
        for part in keys:  # back to the file's spelling of each mapping key
            if isinstance(node, dict):
                part = next((k for k in node if str(k).replace("_", "-") == str(part)), part)
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            spelled.append(part)
        pos = self.doc.pos(tuple(spelled), key=key)
        return f"{self.path}:{pos.line}:{pos.col}"


def _read(path: Path) -> dict[str, Any] | None:
    return _load(path)[0]


def _load(path: Path) -> tuple[dict[str, Any] | None, Document | None]:
    """The settings mapping of ``path`` and, for YAML, its document (positions for messages)."""
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
        return (section if isinstance(section, dict) else None), None
    from .yamldoc import LoadError, load_file

    try:
        doc = load_file(path)
    except LoadError as exc:
        raise SettingsError(f"{path}:{exc.pos.line}:{exc.pos.col}: {exc.message}") from None
    if doc.data is None:
        return {}, doc
    if not isinstance(doc.data, dict):
        raise SettingsError(f"{Where(path, doc)()}: must be a mapping of settings")
    return doc.data, doc


def parse(raw: dict[str, Any], source: Path, known_rules: set[str], where: Where | None = None) -> Settings:
    """Validate a settings mapping; unknown keys and rule names are errors, at their ``file:line:col``."""
    where = where or Where(source)
    raw = {str(k).replace("_", "-"): v for k, v in raw.items()}
    unknown = sorted(set(raw) - KNOWN)
    if unknown:
        raise SettingsError(f"{where(unknown[0], key=True)}: unknown setting(s) {unknown}; known: {sorted(KNOWN)}")
    disable = raw.get("disable", [])
    severity = raw.get("severity", {})
    ignore = raw.get("ignore", [])
    for name, value, kind in (("disable", disable, list), ("ignore", ignore, list), ("severity", severity, dict)):
        if not isinstance(value, kind):
            raise SettingsError(f"{where(name)}: 'disable' and 'ignore' must be lists, 'severity' a mapping")
    def known(rule: object, at: str) -> None:
        if str(rule) not in known_rules:
            from .argo.variables import did_you_mean

            raise SettingsError(f"{at}: unknown rule {rule!r}{did_you_mean(str(rule), known_rules)}")

    for i, rule in enumerate(disable):
        known(rule, where("disable", i))
    for rule in severity:
        known(rule, where("severity", rule, key=True))
    for rule, level in severity.items():
        if level not in ("error", "warning"):
            raise SettingsError(f"{where('severity', rule)}: severity of {rule} must be 'error' or 'warning', "
                                f"not {level!r}")
    for flag in ("require-fresh-locks", "strict"):
        if not isinstance(raw.get(flag, False), bool):
            raise SettingsError(f"{where(flag)}: '{flag}' must be true or false")
    parse_local(raw.get("local"), source, where)  # validated here too, so lint reports a bad value
    if "dsl" in raw or "python" in raw:
        from .dsl.resolve import entries_of

        entries_of(raw, source)  # raises SettingsError for a bad entry
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
    raw, doc = _load(path)
    return parse(raw or {}, path, known_rules, Where(path, doc))
