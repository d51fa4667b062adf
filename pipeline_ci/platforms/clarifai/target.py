"""Which Clarifai pipeline version a run goes to, and where each id came from.

Precedence (unlike the vendor CLI, flags always win): command-line flags, then the root
``config-lock.yaml``, then ``config.yaml``, then (user id only) ``CLARIFAI_USER_ID`` from the environment or the
Clarifai CLI context. Compute: ``--compute-cluster-id``/``--nodepool-id``, else ``--instance``, else
``pipeline.compute.instance`` (from ``config-lock.yaml`` when it has the section, else ``config.yaml``, as the SDK
reads it); ``--cloud``/``--region``, else ``pipeline.compute.cloud``/``region``, name the cluster. An instance type
is resolved and its cluster and nodepool got or created at run time, as
the SDK does (:mod:`.compute`); ``Resolved.instance`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...discovery import CONFIG, display
from ...errors import UsageError
from ...project import LOCK
from ...yamldoc import LoadError, load_file
from .run import RunTarget

FIELDS = ("user_id", "app_id", "pipeline_id", "version_id")
FLAGS = {"user_id": "--user-id", "app_id": "--app-id", "pipeline_id": "--pipeline-id",
         "version_id": "--pipeline-version-id"}


class TargetError(UsageError):
    """Ids are missing or a file cannot be read (a usage error: nothing was started)."""


@dataclass
class Resolved:
    target: RunTarget
    sources: dict[str, str] = field(default_factory=dict)
    instance: tuple[str, str | None, str | None] | None = None  # (instance type, cloud, region) to get or create


def _pipeline_section(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = load_file(path, display(path)).data
    except LoadError as exc:
        raise TargetError(f"{display(path)}:{exc.pos.line}:{exc.pos.col}: {exc.message}") from None
    section = data.get("pipeline") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def resolve(root: Path | None, flags: dict[str, str | None], user_id: str | None = None) -> Resolved:
    """Ids from ``flags`` (keys as in :data:`FIELDS` plus compute ones), the lockfile and the config; ``user_id``
    (``CLARIFAI_USER_ID``, from the environment or the Clarifai CLI context) is the last resort for the user id."""
    lock = _pipeline_section(root / LOCK) if root else {}
    config = _pipeline_section(root / CONFIG) if root else {}
    keys = {"user_id": "user_id", "app_id": "app_id", "pipeline_id": "id", "version_id": "version_id"}
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        for source, value in ((FLAGS[name], flags.get(name)),
                              (display(root / LOCK) if root else "", lock.get(keys[name])),
                              (display(root / CONFIG) if root else "", config.get(keys[name])),
                              ("CLARIFAI_USER_ID", user_id if name == "user_id" else None)):
            if value:
                values[name], sources[name] = str(value), source
                break
    missing = [n for n in FIELDS if n not in values]
    if missing:
        raise TargetError(f"missing {', '.join(missing)}: pass {FLAGS[missing[0]]} or deploy first so "
                          "config-lock.yaml holds the pipeline version")
    # pipeline.compute as the SDK reads it: the lockfile's copy when there is one, else the config's
    compute: dict[str, Any] = {}
    where = ""
    for path, section in ((root / LOCK if root else None, lock), (root / CONFIG if root else None, config)):
        if isinstance(section.get("compute"), dict) and path is not None:
            compute, where = section["compute"], f"{display(path)} pipeline.compute"
            break
    cluster, nodepool = flags.get("compute_cluster_id"), flags.get("nodepool_id")
    kind = flags.get("instance") or _text(compute.get("instance"))
    instance: tuple[str, str | None, str | None] | None = None
    if cluster and nodepool:
        ignored = [f"--{k}" for k in ("instance", "cloud", "region") if flags.get(k)]
        sources["compute"] = "--compute-cluster-id/--nodepool-id" + (
            f" ({', '.join(ignored)} ignored: the ids are given)" if ignored else "")
    elif kind:
        instance = (kind, flags.get("cloud") or _text(compute.get("cloud")),
                    flags.get("region") or _text(compute.get("region")))
        origin = f"--instance {kind}" if flags.get("instance") else f"{where}.instance {kind}"
        sources["compute"] = f"{origin} (got or created like `clarifai pipeline run --instance`)"
    target = RunTarget(values["user_id"], values["app_id"], values["pipeline_id"], values["version_id"],
                       cluster or None, nodepool or None)
    return Resolved(target, sources, instance)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None
