"""A PAI manifest parses as YAML, every document is a mapping, and the last document is the entry pipeline.

PAIFlow reads ``PipelineManifest`` as a YAML stream. alipai submits inline components as a
multi-document YAML: the component definitions (each with a ``metadata.guid`` that steps refer to)
first and the entry pipeline last, so the last document is the one that runs. Reported here: YAML
syntax errors, duplicate keys (the later value silently wins), documents that are empty or not a
mapping, an earlier document without ``metadata.guid`` (nothing can use it: is it the entry
pipeline in the wrong place?) and a last document that steps use as an inline component.

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: data_source
        spec:
          arguments:
            parameters:
            - name: inputTableName
              value: pai_online_project.wumai_data

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
      version: v2.0.0  # <-- duplicate key
    spec:
      pipelines: []
"""

from __future__ import annotations

from collections.abc import Iterator

from ..platforms.pai.manifest import nodes
from .base import Hit, ManifestContext, at

ID = "P01"
NAME = "pai-documents"
SEVERITY = "error"
TARGET = "manifest"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    manifest = ctx.manifest
    for err in manifest.errors:
        yield Hit(err.file, err.error.pos, err.error.message)
    docs = manifest.documents
    for i, doc in enumerate(docs):
        for problem in doc.problems:
            if problem.kind == "duplicate-key":
                yield Hit(doc.file, problem.pos, problem.message, problem.path)
        what = f"document {i + 1}" if len(docs) > 1 else "the manifest"
        if doc.data is None:
            yield at(doc, (), f"{what} is empty; every document of a PAI manifest must be a mapping")
        elif not isinstance(doc.data, dict):
            yield at(doc, (), f"{what} is a {type(doc.data).__name__}, not a mapping (apiVersion, metadata, spec)")
        elif i < len(docs) - 1 and not _guid(doc.data):
            has_meta = "metadata" in doc.data
            yield at(doc, ("metadata",) if has_meta else (), key=has_meta, message=(
                f"document {i + 1} has no metadata.guid, but only the last document is the entry pipeline: "
                "the documents before it are inline components that steps use by guid (move the entry "
                "pipeline to the end, or give this component a guid)"))
    entry = docs[-1] if len(docs) > 1 and isinstance(docs[-1].data, dict) else None
    guid = _guid(entry.data) if entry else None
    if entry and guid:
        user = next((n for n in nodes(manifest) if n.is_step and n.guid == guid and n.doc is not entry), None)
        if user is not None:
            number = next(i for i, d in enumerate(docs) if d is user.doc) + 1
            yield at(entry, ("metadata", "guid"),
                     f"the last document is the entry pipeline, but {user.label} of document {number} uses its "
                     f"guid '{guid}' as an inline component; put the entry pipeline last")


def _guid(data: dict) -> str | None:
    meta = data.get("metadata")
    guid = meta.get("guid") if isinstance(meta, dict) else None
    return guid if isinstance(guid, str) and guid else None
