"""Reading, building and atomically writing lockfiles in the exact format of the Clarifai SDK.

Step lock (``<step>/config-lock.yaml``): ``{"id": version, "hash": {"algo": "md5", "value": hex}}``
updated with every top-level key of the step ``config.yaml``, dumped by PyYAML with sorted keys.
Root lock (``<root>/config-lock.yaml``): ``pipeline.{id, user_id, app_id, version_id,
orchestration_spec.argo_orchestration_spec, config.step_version_secrets?, compute?}`` in that
order, multi-line strings as ``|`` blocks, the embedded spec re-dumped with sorted keys and every
templateRef pinned to a version. We add ``pipeline.visibility`` when the config sets one, so an
unchanged re-deploy can prove nothing changed; the SDK ignores the extra key.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import json
import os
import re
from pathlib import Path

import yaml

from .project import REF_WITH_VERSION, REF_WITHOUT_VERSION

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:
    from typing import Any

StepKey = tuple[str, str, str]  # (user_id, app_id, step_id)


class _LiteralDumper(yaml.SafeDumper):
    """The SDK's root-lockfile dumper: multi-line strings become literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_LiteralDumper.add_representer(str, _represent_str)


def step_lock_text(version_id: str, digest: str, step_config: dict) -> str:
    """The step lockfile the SDK writes after uploading a step."""
    data = {"id": version_id, "hash": {"algo": "md5", "value": digest}}
    data.update(step_config)
    return yaml.dump(data, default_flow_style=False, allow_unicode=True)


def ref_key(name: str) -> StepKey | None:
    """``(user, app, step)`` of a Clarifai templateRef name, versioned or not."""
    match = REF_WITH_VERSION.match(name) or REF_WITHOUT_VERSION.match(name)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def pin_refs(spec: Any, versions: dict[StepKey, str]) -> Any:
    """A copy of ``spec`` whose templateRefs to the steps in ``versions`` are pinned to those versions.

    Refs are matched on the exact ``(user, app, step)`` triple (never by substring), so refs to
    other users' or apps' steps keep their own pins.
    """
    spec = copy.deepcopy(spec)
    templates = spec.get("spec", {}).get("templates", []) if isinstance(spec, dict) else []
    for tmpl in templates if isinstance(templates, list) else []:
        if not isinstance(tmpl, dict):
            continue
        nodes = [s for g in tmpl.get("steps") or [] if isinstance(g, list) for s in g]
        dag = tmpl.get("dag")
        nodes += (dag.get("tasks") or []) if isinstance(dag, dict) else []
        for node in nodes:
            ref = node.get("templateRef") if isinstance(node, dict) else None
            name = ref.get("name") if isinstance(ref, dict) else None
            key = ref_key(name) if isinstance(name, str) else None
            if key is not None and key in versions and isinstance(ref, dict):
                pinned = "users/{}/apps/{}/pipeline_steps/{}".format(*key) + f"/versions/{versions[key]}"
                ref["name"] = ref["template"] = pinned
    return spec


def root_lock_text(pipeline: dict, resolved_spec: Any, version_id: str) -> str:
    """The root lockfile for ``pipeline`` (the config's ``pipeline`` mapping) and a pinned spec."""
    spec_text = yaml.dump(resolved_spec, Dumper=_LiteralDumper, default_flow_style=False)
    lock: dict[str, Any] = {
        "id": pipeline.get("id"),
        "user_id": pipeline.get("user_id"),
        "app_id": pipeline.get("app_id"),
        "version_id": version_id,
        "orchestration_spec": {"argo_orchestration_spec": spec_text},
    }
    secrets = (pipeline.get("config") or {}).get("step_version_secrets")
    if secrets:
        lock["config"] = {"step_version_secrets": secrets}
    if pipeline.get("compute"):
        lock["compute"] = pipeline["compute"]
    if pipeline.get("visibility") is not None:
        lock["visibility"] = pipeline["visibility"]
    return yaml.dump({"pipeline": lock}, Dumper=_LiteralDumper, default_flow_style=False, sort_keys=False)


def canonical(value: Any) -> str:
    """Order-insensitive text of a parsed spec/secrets value, for semantic comparison."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def write_atomic(path: Path, text: str, *, point: str | None = None, tmp_dir: Path | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers see the old or the new file.

    ``tmp_dir``: where the temporary file goes (default: beside ``path``; the deploy engine uses the project's
    git-ignored ``.pipeline-ci/tmp`` so that a process killed before the rename leaves nothing in a step folder,
    whose content hash would change). ``point``: the :mod:`~pipeline_ci.crashpoints` name reached just before the
    rename.
    """
    write_atomic_bytes(path, text.encode("utf-8"), point=point, tmp_dir=tmp_dir)


def write_atomic_bytes(path: Path, data: bytes, *, point: str | None = None, tmp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (see :func:`write_atomic`)."""
    import tempfile  # with shutil and the compression modules it brings: only when something is written

    fd, tmp = tempfile.mkstemp(dir=tmp_dir or path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if point is not None:
            from . import crashpoints

            crashpoints.reached(point)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EXDEV or tmp_dir is None:
                raise
            Path(tmp).unlink(missing_ok=True)  # another file system: write beside the target instead
            write_atomic_bytes(path, data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pipeline_record(pipeline: dict, resolved_spec: Any) -> dict[str, Any]:
    """What a pipeline version is: its pinned spec, secrets, compute and visibility."""
    return {
        "spec": resolved_spec,
        "secrets": (pipeline.get("config") or {}).get("step_version_secrets"),
        "compute": pipeline.get("compute"),
        "visibility": pipeline.get("visibility"),
    }


def pipeline_hash(pipeline: dict, resolved_spec: Any) -> str:
    """The content hash of a pipeline version (:func:`pipeline_record`, MD5 hex). Recorded in the version's metadata
    on the platform, so a re-run finds the version it already created."""
    return hashlib.md5(canonical(pipeline_record(pipeline, resolved_spec)).encode()).hexdigest()


def version_of(name: str) -> str | None:
    match = REF_WITH_VERSION.match(name)
    return match.group(4) if match else None


VERSION_SUFFIX = re.compile(r"/versions/[^/\"]+")
