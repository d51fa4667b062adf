"""``pipeline-ci init [DIR] [--template NAME]``: a new pipeline project from a built-in template
(:mod:`pipeline_ci.scaffold`); ``pipeline-ci init --ci github [DIR]``: the CI files of the recommended team
workflow ("CI uploads", see the README; :mod:`pipeline_ci.ci_templates`) in the repository that holds DIR, for the
pipeline projects under DIR.

Nothing is overwritten without ``--force``: when any file to write exists, the command lists them all, writes
nothing and exits 2. Files are written atomically. The last lines say what to run next.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from ..scaffold import Ids
from . import Env, Out

DEMO_USER = "demo-user"


@dataclass(frozen=True)
class Options:
    path: Path
    template: str = "dag"
    ci: str | None = None  # "github": write CI files instead of a project
    force: bool = False
    pipeline_id: str | None = None
    user_id: str | None = None  # default: CLARIFAI_USER_ID (environment or Clarifai CLI context), else DEMO_USER
    app_id: str = "pipeline-app"  # the SDK's default app for pipelines (clarifai/cli/pipeline.py)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(args.path, args.template, args.ci, args.force, args.pipeline_id, args.user_id, args.app_id)


def run(options: Options, env: Env, out: Out) -> int:
    from ..discovery import display

    if options.ci:
        root, files = _ci_files(options)
        _write(root, files, options.force, out)
        out(f"pipeline-ci: wrote the CI files of the 'CI uploads' team workflow to {display(root)}")
        out("next: add the CLARIFAI_PAT secret to the repository, commit, and open a pull request")
        return ExitCode.OK
    user, source = _user_id(options, env)
    files, ids = _project_files(options, user)
    _write(options.path, files, options.force, out)
    where = display(options.path)
    out(f"pipeline-ci: created pipeline project {ids.pipeline_id!r} from the {options.template!r} template in {where}")
    from ..scaffold import NEEDS_SECRETS_FILE

    secrets = NEEDS_SECRETS_FILE.get(options.template)
    quoted = shlex.quote(where)
    extra = f" --secrets-file {shlex.quote(display(options.path / secrets))}" if secrets else ""
    out(f"next: pipeline-ci lint {quoted} && pipeline-ci deploy {quoted} --backend local --run{extra}")
    if source is None or user == DEMO_USER:
        why = source or "no --user-id, no CLARIFAI_USER_ID, no `clarifai login`"
        out(f"note: user id {DEMO_USER!r} is a stand-in ({why}): put yours in the configs and templateRefs before "
            "uploading to Clarifai")
    else:
        out(f"user id {user!r} from {source}; app id {options.app_id!r}")
    return ExitCode.OK


def _user_id(options: Options, env: Env) -> tuple[str, str | None]:
    """The user id to write and where it came from (None: the stand-in)."""
    if options.user_id:
        return options.user_id, "--user-id"
    from ..platforms.clarifai import contexts

    try:
        resolved = contexts.resolve(env)
    except UsageError as exc:  # a broken Clarifai config: init does not need it, but says so
        return DEMO_USER, f"the Clarifai CLI config was not read: {exc.message}"
    if resolved.env.get("CLARIFAI_USER_ID"):
        return resolved.env["CLARIFAI_USER_ID"], resolved.sources["CLARIFAI_USER_ID"]
    return DEMO_USER, None


def _project_files(options: Options, user_id: str) -> tuple[dict[str, str], Ids]:
    from ..scaffold import TEMPLATES, argo_name

    if options.template not in TEMPLATES:
        raise UsageError(f"unknown template {options.template!r}; choose from {', '.join(TEMPLATES)}")
    pipeline_id = options.pipeline_id or argo_name(options.path.resolve().name)
    ids = Ids(pipeline_id, user_id, options.app_id)
    files = TEMPLATES[options.template](ids)
    _lint_ids(files, ids)
    return files, ids


def _lint_ids(files: dict[str, str], ids: Ids) -> None:
    """Which ids are usable is lint's business (a Clarifai id may be ``test_app``; a ``/`` breaks the templateRefs, the
    pipeline id names the Argo workflows, a placeholder-like id is left for later): the project is linted in a
    temporary folder, with no settings, before anything is written, and any finding refuses the ids (the built-in
    templates lint clean)."""
    import tempfile

    from ..lint import lint_paths

    with tempfile.TemporaryDirectory(prefix="pipeline-ci-init-") as tmp:
        root = Path(tmp) / "project"
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        settings = Path(tmp) / ".pipeline-ci.yaml"
        settings.write_text("", encoding="utf-8")
        result = lint_paths([root], config=settings)
        found = [f"{Path(f.file).resolve().relative_to(root.resolve()).as_posix()}:{f.line}:{f.col}: {f.severity} "
                 f"[{f.rule}] {f.message}" for f in result.findings]
    if found or not result.projects:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UsageError(f"pipeline id {ids.pipeline_id!r}, user id {ids.user_id!r}, app id {ids.app_id!r}: the project "
                         f"would not lint clean: {'; '.join(found[:3]) or 'no project found'}{more}",
                         hint="pass --pipeline-id, --user-id or --app-id")


def _ci_files(options: Options) -> tuple[Path, dict[str, str]]:
    from .. import __version__, ci_templates
    from ..changes.git import Git, GitError

    if options.ci != "github":
        raise UsageError(f"--ci {options.ci}: only 'github' is supported")
    if not options.path.is_dir():
        raise UsageError(f"{options.path}: no such folder", hint="give the folder that holds (or will hold) the projects")
    try:
        root = Git(options.path).toplevel()
    except GitError:
        raise UsageError(f"{options.path} is not inside a git repository", hint="run `git init` first") from None
    folder = options.path.resolve().relative_to(root.resolve()).as_posix()
    if not ci_templates.PLAIN_FOLDER.fullmatch(folder):
        # it goes into YAML, the action's whitespace-separated `path` input and a `paths:` glob unquoted
        raise UsageError(f"{folder!r}: the workflows can only name a folder of letters, digits, '.', '_', '-' and '/'",
                         hint="keep the projects in such a folder (e.g. pipelines/), or edit the written workflows")
    return root, ci_templates.render(__version__, folder)


def _write(root: Path, files: dict[str, str], force: bool, out: Out) -> None:
    """Write ``files`` under ``root``: all or nothing when any exists (unless ``force``)."""
    from ..discovery import display
    from ..lockfiles import write_atomic

    existing = [rel for rel in files if (root / rel).exists() or (root / rel).is_symlink()]
    if existing and not force:
        listed = ", ".join(display(root / rel) for rel in existing[:10]) + (" ..." if len(existing) > 10 else "")
        raise UsageError(f"{len(existing)} file(s) already exist: {listed}; nothing was written",
                         hint="pick another folder or move them aside, or pass --force to overwrite them")
    ancestor = root
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{display(ancestor)} is not a folder: cannot create {display(root)}")
    for rel, text in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
        except OSError as exc:
            raise UsageError(f"cannot write {display(path)}: {exc.strerror or exc}") from None
        out(f"  {'overwrote' if rel in existing else 'created'} {display(path)}")
