"""Which Clarifai pipeline version a run goes to, and where each id came from.

Precedence (unlike the vendor CLI, flags always win): command-line flags, then the root
``config-lock.yaml``, then ``config.yaml``. Compute: ``--compute-cluster-id``/``--nodepool-id``,
else the config's ``pipeline.compute`` (``compute_cluster_id``/``nodepool_id``, or ``instance`` with
``cloud``/``region`` mapped to the ids the SDK derives in ``clarifai/utils/compute_presets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...discovery import CONFIG, display
from ...errors import UsageError
from ...project import LOCK
from ...yamldoc import LoadError, load_file
from .run import RunTarget, compute_ids

FIELDS = ("user_id", "app_id", "pipeline_id", "version_id")


class TargetError(UsageError):
    """Ids are missing or a file cannot be read (a usage error: nothing was started)."""


@dataclass
class Resolved:
    target: RunTarget
    sources: dict[str, str] = field(default_factory=dict)


def _pipeline_section(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = load_file(path, display(path)).data
    except LoadError as exc:
        raise TargetError(f"{display(path)}:{exc.pos.line}:{exc.pos.col}: {exc.message}") from None
    section = data.get("pipeline") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def resolve(root: Path | None, flags: dict[str, str | None]) -> Resolved:
    """Ids from ``flags`` (keys as in :data:`FIELDS` plus compute ones), the lockfile and the config."""
    lock = _pipeline_section(root / LOCK) if root else {}
    config = _pipeline_section(root / CONFIG) if root else {}
    keys = {"user_id": "user_id", "app_id": "app_id", "pipeline_id": "id", "version_id": "version_id"}
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        for source, value in ((f"--{name.replace('_', '-')}", flags.get(name)),
                              (display(root / LOCK) if root else "", lock.get(keys[name])),
                              (display(root / CONFIG) if root else "", config.get(keys[name]))):
            if value:
                values[name], sources[name] = str(value), source
                break
    missing = [n for n in FIELDS if n not in values]
    if missing:
        raise TargetError(f"missing {', '.join(missing)}: pass --{missing[0].replace('_', '-')} or deploy first so "
                          "config-lock.yaml holds the pipeline version")
    raw_compute = config.get("compute")
    compute: dict[str, Any] = raw_compute if isinstance(raw_compute, dict) else {}
    cluster, nodepool = flags.get("compute_cluster_id"), flags.get("nodepool_id")
    if cluster and nodepool:
        sources["compute"] = "--compute-cluster-id/--nodepool-id"
    elif compute.get("compute_cluster_id") and compute.get("nodepool_id"):
        cluster, nodepool = str(compute["compute_cluster_id"]), str(compute["nodepool_id"])
        sources["compute"] = f"{display(root / CONFIG)} pipeline.compute" if root else "config"
    elif compute.get("instance"):
        cluster, nodepool = compute_ids(str(compute["instance"]), compute.get("cloud"), compute.get("region"))
        sources["compute"] = f"derived from pipeline.compute.instance {compute['instance']}"
    target = RunTarget(values["user_id"], values["app_id"], values["pipeline_id"], values["version_id"],
                       cluster or None, nodepool or None)
    return Resolved(target, sources)
