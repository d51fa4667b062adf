"""JSON Schemas (draft 2020-12) of the Clarifai Pipelines project files.

The schemas ship as package data (``pipeline_ci/schemas/*.json``):

- ``root-config``: a pipeline's root ``config.yaml``
- ``step-config``: a step folder's ``config.yaml``
- ``step-lock``: a step's ``config-lock.yaml``
- ``root-lock``: the root ``config-lock.yaml``
- ``overrides``: a ``pipeline run`` overrides file

Schemas reference each other with relative ``$ref`` s resolved against their
``$id`` (``https://pipeline-ci.dev/schemas/<name>.json``); :func:`registry`
holds all of them so that no reference is ever fetched over the network.

Conventions relied upon by the linter: an unknown key the SDK merely ignores is
reported by an ``additionalProperties: false`` failure (a warning); every other
keyword failure is something the SDK rejects or crashes on (an error). Unknown
``pipeline_step_compute_info`` keys, which the SDK rejects, fail under
``propertyNames`` (the error's ``validator`` is ``enum`` and its ``schema_path``
contains ``propertyNames``). Some nodes carry a non-standard ``errorMessage`` /
``patternErrorMessage`` (understood by VS Code / yaml-language-server) with a
friendlier message.

This module is imported on the lint fast path: ``jsonschema``, ``referencing`` and even
the schema files are loaded lazily inside the functions; lint checks documents with the predicates
generated from the schemas (:mod:`.fastcheck`, by :mod:`.generate`) and asks ``jsonschema`` only about
the documents those cannot vouch for.
"""

from __future__ import annotations

import functools

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    import jsonschema
    import referencing

__all__ = ["BASE_URI", "NAMES", "load", "registry", "uri", "validator"]

NAMES = ("root-config", "step-config", "step-lock", "root-lock", "overrides")

#: Base of every schema ``$id``; ``uri(name)`` is ``BASE_URI + name + ".json"``.
BASE_URI = "https://pipeline-ci.dev/schemas/"


def _check_name(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of: {', '.join(NAMES)}")
    return name


def uri(name: str) -> str:
    """Return the ``$id`` of schema ``name``."""
    return f"{BASE_URI}{_check_name(name)}.json"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed schema ``name`` (one of :data:`NAMES`).

    The result is cached and shared with :func:`registry` / :func:`validator`:
    treat it as read-only.
    """
    import json
    from importlib import resources  # imported here: lint validates through the generated .fastcheck

    text = resources.files(__name__).joinpath(f"{_check_name(name)}.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def registry() -> referencing.Registry:
    """Return a ``referencing.Registry`` holding all five schemas under their ``$id``."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resources_ = [(uri(name), DRAFT202012.create_resource(load(name))) for name in NAMES]
    return Registry().with_resources(resources_).crawl()


ANNOTATIONS = frozenset({"title", "description", "examples", "errorMessage", "patternErrorMessage", "$comment",
                         "default", "markdownDescription"})


def _resolve(ref: str, base: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The subschema a ``$ref`` points at, and the schema document holding it."""
    target, _, fragment = ref.partition("#")
    doc = base if not target else load(target.removeprefix(BASE_URI).removesuffix(".json"))
    node: Any = doc
    for part in (p for p in fragment.split("/") if p):
        node = node[part]
    return node, doc


def _inline(node: Any, base: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by its target (our schemas are not recursive)."""
    if isinstance(node, list):
        return [_inline(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {k: _inline(v, base) for k, v in node.items() if k not in ("$ref", "$defs")}
    if "$ref" not in node:
        return rest
    target, doc = _resolve(node["$ref"], base)
    resolved = _inline(target, doc)
    if (set(rest) - ANNOTATIONS) & (set(resolved) - ANNOTATIONS):  # both constrain the same keyword
        return {**{k: v for k, v in rest.items() if k in ANNOTATIONS}, "allOf": [resolved, rest]}
    return {**resolved, **rest}


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """Return the (cached, built once per process) validator of schema ``name``.

    No format checker is attached. Cross-schema ``$ref`` s are inlined once (validation through
    ``referencing`` lookups is 2-3x slower on every document); :func:`registry` still serves editors
    and tests that want the schemas as published.
    """
    from jsonschema import Draft202012Validator

    schema = _inline(load(name), load(name))
    schema["$schema"] = load(name)["$schema"]
    return Draft202012Validator(schema)
