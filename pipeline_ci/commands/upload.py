"""``pipeline-ci upload [PATH...] --backend B [--dry-run]``: lint, then upload the steps that changed as new
versions and pin them in the lockfiles, for every project under the paths (the engine is :mod:`pipeline_ci.deploy`).

Lint errors stop everything before any upload (exit 2). A :class:`~pipeline_ci.platforms.base.DeployError` stops
at the project it happened in, with its own exit code and the platform's log lines.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from . import Env, Out


@dataclass(frozen=True)
class Options:
    paths: tuple[Path, ...]
    backend: str
    dry_run: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(tuple(args.paths), args.backend, args.dry_run)


def run(options: Options, env: Env, out: Out) -> int:
    from .. import github, platforms
    from ..deploy import apply, apply_local, describe, describe_local, make_local_plan, make_plan, plan_summary
    from ..discovery import display
    from ..lint import lint_paths
    from ..platforms.base import DeployError
    from ..project import load_project
    from ..report import render

    checked = lint_paths(list(options.paths))
    if checked.errors:
        for line in render("text", checked).rstrip("\n").split("\n"):  # lines already made safe by the report
            out(line)
        raise UsageError("lint errors: nothing was uploaded")
    for root in checked.projects:
        if root.is_file():
            continue  # a PAI manifest: runs are started from it, there is nothing to upload
        project = load_project(root)
        try:
            plan = make_plan(project, tracked_only=project.in_git)
            if options.backend == "local":  # local pins live in the store: no project file is written
                from ..platforms.local.store import LocalBackend

                local_backend = LocalBackend(root)
                local = make_local_plan(plan, local_backend)
                if options.dry_run:
                    for line in describe_local(local, local_backend).rstrip("\n").split("\n"):
                        out(line)
                    continue
                result = apply_local(local, local_backend, out)
                backend_name = local_backend.name
            elif options.dry_run:  # no side effects and no network: credentials are not even read
                for line in describe(plan, platforms.planner(options.backend, root)).rstrip("\n").split("\n"):
                    out(line)
                continue
            else:
                backend = platforms.get(options.backend, root, env)
                result = apply(plan, backend, out)
                backend_name = backend.name
        except DeployError as exc:
            raise DeployError(f"{display(root)}: {exc}", exc.exit_code, exc.log) from exc
        github.set_output("pipeline-version-id", result.pipeline_version or "", env)
        github.append_summary(plan_summary(plan, result, backend_name), env)
        uploaded = ", ".join(f"{k}={v}" for k, v in result.uploaded.items()) or "none"
        out(f"{display(root)}: uploaded {len(result.uploaded)} step(s) ({uploaded}), reused {len(result.reused)}; "
            + (f"new pipeline version {result.pipeline_version}" if result.pipeline_version_created
               else f"pipeline unchanged (version {result.pipeline_version})"))
    return ExitCode.OK
