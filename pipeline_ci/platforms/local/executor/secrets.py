"""Step secrets for local runs: ``pipeline.config.step_version_secrets`` resolved from env vars or a secrets file.

``step_version_secrets`` maps an Argo step/task name to ``{ENV_NAME: "users/<u>/secrets/<name>"}``.
Locally the secret path is not dereferenced: the value of ``ENV_NAME`` comes from the environment
of the run or, when not set there, from a ``.env``-style secrets file (the usual dotenv precedence:
the environment wins). Values never appear in messages, run records or parameters, and
:meth:`Secrets.mask` hides them in streamed step output.

Secrets file format: ``KEY=VALUE`` lines; blank lines and ``#`` comments are ignored; an optional
``export`` prefix; a value in matching single or double quotes is taken literally (quotes removed);
an unquoted value ends at `` #`` (an inline comment) and is stripped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ....errors import UsageError

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
MIN_MASK_LENGTH = 3


class SecretsError(UsageError, ValueError):
    """A secrets file that cannot be read or parsed (the message never contains a value)."""


class MissingSecret(UsageError):
    """A step needs secrets that neither the environment nor the secrets file provides."""

    def __init__(self, step: str, names: list[str]):
        super().__init__(
            f"step '{step}' needs secret{'s' if len(names) > 1 else ''} {', '.join(names)} "
            f"(pipeline.config.step_version_secrets.{step}): set the environment variable"
            f"{'s' if len(names) > 1 else ''} or add {names[0]}=... to the secrets file"
        )
        self.step = step
        self.names = names


def load_secrets_file(path: Path) -> dict[str, str]:
    """Parse a ``.env``-style file; errors name the file and line, never a value."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"cannot read secrets file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise SecretsError(f"{path}:{number}: expected KEY=VALUE (KEY: a letter or '_', then letters, digits, '_')")
        key, raw = match.groups()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            value = raw[1:-1]
        elif raw[:1] in ("'", '"'):
            raise SecretsError(f"{path}:{number}: unterminated quote in the value of {key}")
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        values[key] = value
    return values


@dataclass
class Secrets:
    """Where each step's secrets come from; :meth:`env_for` resolves one step's."""

    mapping: Mapping[str, Mapping[str, object]]
    file_values: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: object, file_values: Mapping[str, str], environ: Mapping[str, str]) -> Secrets:
        """From the root config's ``pipeline.config.step_version_secrets`` (malformed parts ignored)."""
        pipeline = config.get("pipeline") if isinstance(config, dict) else None
        conf = pipeline.get("config") if isinstance(pipeline, dict) else None
        raw = conf.get("step_version_secrets") if isinstance(conf, dict) else None
        mapping = {
            str(step): {str(k): v for k, v in envs.items() if v}
            for step, envs in (raw.items() if isinstance(raw, dict) else [])
            if isinstance(envs, dict)
        }
        return cls(mapping, dict(file_values), dict(environ))

    def names_for(self, step: str) -> list[str]:
        return list(self.mapping.get(step, {}))

    def env_for(self, step: str) -> dict[str, str]:
        """``{ENV_NAME: value}`` for the step named ``step``; raises :class:`MissingSecret`."""
        out: dict[str, str] = {}
        missing: list[str] = []
        for name in self.names_for(step):
            value = self.environ.get(name)
            if value is None:
                value = self.file_values.get(name)
            if value is None:
                missing.append(name)
            else:
                out[name] = value
        if missing:
            raise MissingSecret(step, missing)
        return out

    @cached_property
    def values(self) -> list[str]:
        """Every known value of a mapped secret, longest first (for masking)."""
        names = {name for envs in self.mapping.values() for name in envs}
        found = {v for n in names for v in (self.environ.get(n), self.file_values.get(n)) if v}
        return sorted((v for v in found if len(v) >= MIN_MASK_LENGTH), key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, "***")
        return text
