"""Recompute step hashes and rewrite every lockfile of a Clarifai pipeline project, offline.

Usage: python scripts/write_example_locks.py examples/hello-pipeline

Writes what ``clarifai pipeline upload`` would write after uploading every step
(clarifai-pipelines.md §4.1/§4.2), with deterministic ids instead of server-issued ones:
step version id = first 16 hex chars of the step's md5 content hash; pipeline version id =
``local-`` + first 12 hex chars of the md5 of the resolved Argo spec (``json.dumps(sort_keys=True)``).
Every file is computed first, then each is replaced atomically (temp file + ``os.replace``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCKFILE = "config-lock.yaml"
STEP_REF = re.compile(r"^(users/[^/]+/apps/[^/]+/pipeline_steps/([^/]+))(?:/versions/[^/]+)?$")


class LiteralBlockDumper(yaml.SafeDumper):
    """The SDK's root-lockfile dumper: multi-line strings become literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


LiteralBlockDumper.add_representer(str, _represent_str)


def load_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        sys.exit(f"{path}: expected a YAML mapping")
    return data


def step_lock(step_dir: Path) -> tuple[str, str, str]:
    """Return (step id, version id, lockfile text) for one step folder."""
    from pipeline_ci.hashing import hash_step  # the repo root is put on sys.path by main()

    config = load_yaml(step_dir / "config.yaml")
    step_id = (config.get("pipeline_step") or {}).get("id")
    if not step_id:
        sys.exit(f"{step_dir}/config.yaml: pipeline_step.id is missing")
    result = hash_step(step_dir)
    stray = [f for f in result.files if "__pycache__/" in f or f.endswith(".pyc")]
    if stray:
        sys.exit(f"{step_dir}: remove compiled files before locking (they are hashed): {', '.join(stray)}")
    version_id = result.digest[:16]
    lock = {"id": version_id, "hash": {"algo": "md5", "value": result.digest}, **config}
    return step_id, version_id, yaml.dump(lock, default_flow_style=False, allow_unicode=True)


def pin_refs(spec: dict, versions: dict[str, str]) -> None:
    """Pin every templateRef (steps and DAG tasks) to the local version of its step, in place."""
    for template in spec["spec"]["templates"]:
        nodes = [s for group in template.get("steps") or [] for s in group]
        nodes += (template.get("dag") or {}).get("tasks") or []
        for node in nodes:
            ref = node.get("templateRef")
            match = STEP_REF.match(ref["name"]) if ref else None
            if not match:
                continue
            if match.group(2) not in versions:
                print(f"warning: no local step for templateRef {ref['name']}; left as is", file=sys.stderr)
                continue
            ref["name"] = ref["template"] = f"{match.group(1)}/versions/{versions[match.group(2)]}"


def root_lock(config: dict, versions: dict[str, str]) -> str:
    pipeline = config["pipeline"]
    spec = yaml.safe_load(pipeline["orchestration_spec"]["argo_orchestration_spec"])
    pin_refs(spec, versions)
    spec_md5 = hashlib.md5(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    spec_text = yaml.dump(spec, Dumper=LiteralBlockDumper, default_flow_style=False)
    lock = {
        "pipeline": {
            "id": pipeline["id"],
            "user_id": pipeline["user_id"],
            "app_id": pipeline["app_id"],
            "version_id": f"local-{spec_md5[:12]}",
            "orchestration_spec": {"argo_orchestration_spec": spec_text},
        }
    }
    secrets = (pipeline.get("config") or {}).get("step_version_secrets")
    if secrets:
        lock["pipeline"]["config"] = {"step_version_secrets": secrets}
    return yaml.dump(lock, Dumper=LiteralBlockDumper, default_flow_style=False, sort_keys=False)


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="pipeline project folder (holds config.yaml)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))

    root = args.root.resolve()
    config = load_yaml(root / "config.yaml")
    outputs: dict[Path, str] = {}
    versions: dict[str, str] = {}
    for entry in config["pipeline"].get("step_directories") or []:
        step_dir = root / entry
        step_id, version_id, text = step_lock(step_dir)
        versions[step_id] = version_id
        outputs[step_dir / LOCKFILE] = text
    outputs[root / LOCKFILE] = root_lock(config, versions)

    for path, text in outputs.items():
        write_atomic(path, text)
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
