"""The ``pipeline-ci`` command line: parse the arguments, build the command's options, run the command
(:mod:`pipeline_ci.commands`) inside the error handler (:mod:`pipeline_ci.error_handler`), exit.

Argument errors are usage errors (:class:`~pipeline_ci.errors.UsageError`) printed like every other user error
(``pipeline-ci: error: ...`` and a ``hint:``, with a did-you-mean for a typo'd command, choice or flag); ``-q``/``-v``
set :mod:`pipeline_ci.console`'s verbosity. Exit codes: :class:`~pipeline_ci.exitcodes.ExitCode` (the README's
table). Heavy modules are imported inside the command that needs them, so ``lint`` stays fast.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from . import __version__
from .commands import NAMES
from .report import FORMATS

TYPE_CHECKING = False  # not typing's: importing typing costs a cached lint's start-up a tenth
if TYPE_CHECKING:
    from typing import Any, NoReturn

# argparse's messages stay English, like every other message of the CLI (and :func:`_suggest` reads them): its gettext
# look-ups (importing locale, then a catalogue search per message) are a twentieth of a cached lint's run time.
vars(argparse).update(_=lambda message: message, ngettext=lambda singular, plural, n: singular if n == 1 else plural)


class _Backends:
    """The ``--backend`` choices of a command: the platforms with ``capability`` in the registry
    (:func:`pipeline_ci.platforms.names`), read when argparse first needs them (checking a value, ``--help``), so
    ``lint`` never imports the registry. The arguments using it have a ``metavar``: argparse would read the choices
    to build one when the argument is added."""

    def __init__(self, capability: str):
        self.capability = capability

    def _names(self) -> tuple[str, ...]:
        from .platforms import names

        return names(self.capability)

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __getitem__(self, index: int) -> str:
        return self._names()[index]


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default (``--backend`` ``local``, ``--max-interval`` ``30.0``): appended as
    ``(default: ...)`` unless the help already says it; unset (``None``), off (``False``) and list defaults are not
    shown, nor those of switches. Options are listed in their groups, so each command's help lists only the flags it
    takes."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        # argparse imports shutil (and bz2, lzma) for the terminal width whenever a parser is built: the width is
        # found here as shutil.get_terminal_size() finds it (COLUMNS, else the terminal, else 80)
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or "default:" in text or default is argparse.SUPPRESS or default is None
                or action.nargs == 0 or isinstance(default, list | tuple)  # nargs 0: a switch (-v, --strict)
                or (not action.option_strings and action.nargs not in ("?", "*"))):
            return text
        return f"{text} (default: %(default)s)"


def _columns() -> int:
    """The terminal's width as :func:`shutil.get_terminal_size` gives it."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`~pipeline_ci.errors.UsageError`\\ s, printed like every other user
    error (``pipeline-ci: error: ...`` and a ``hint:`` line, exit 2), with a suggestion for a typo'd command or choice
    (:func:`_suggest`). Sub-parsers are of this class too (argparse makes them of their parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        from .errors import UsageError

        raise UsageError(message, hint=_suggest(self, message))


def _suggest(parser: argparse.ArgumentParser, message: str) -> str:
    """The hint of an argument error: the close match of a bad choice (difflib), else where the help is."""
    import difflib
    import re

    bad = re.search(r"argument (\S+): invalid choice: '([^']*)'", message)
    if bad:
        for action in parser._actions:
            if bad.group(1) == ("/".join(action.option_strings) or str(action.metavar or action.dest)):  # as argparse
                close = difflib.get_close_matches(bad.group(2), [str(c) for c in action.choices or ()], n=1)
                if close:
                    return f"did you mean `{close[0]}`?"
    return f"`{parser.prog} --help` lists {'the commands' if parser.prog == 'pipeline-ci' else 'its arguments'}"


def _unrecognized(parser: argparse.ArgumentParser, command: str | None, extras: list[str]) -> NoReturn:
    """The error for arguments no parser took, with the close match of a typo'd option of ``command``."""
    import difflib

    from .errors import UsageError

    sub = _commands(parser).get(command or "", parser)
    options = [s for a in sub._actions for s in a.option_strings]
    hints = []
    for extra in extras:
        close = difflib.get_close_matches(extra.split("=")[0], options, n=1) if extra.startswith("-") else []
        if close:
            hints.append(f"`{extra}`: did you mean `{close[0]}`?")
    raise UsageError(f"unrecognized arguments: {' '.join(extras)}",
                     hint=" ".join(hints) or f"`{sub.prog} --help` lists {'its arguments' if command else 'the commands'}")


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-parsers of ``parser`` by command name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


class _Skipped:
    """What :func:`_parser` gives for a command it does not build: every call on it does nothing."""

    def __getattr__(self, name: str) -> Callable[..., _Skipped]:
        return lambda *args, **kwargs: self


_SKIPPED: Any = _Skipped()
COMMANDS = NAMES  # the sub-parsers of _parser(), in order


def _seconds(text: str) -> float:
    """A ``--timeout``, ``--max-interval`` or ``--paused-grace`` value: a positive, finite number of seconds (0, a
    negative number, ``nan`` or ``inf`` is a usage error before anything starts)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _parent(title: str | None = None) -> tuple[_Parser, Any]:
    """A parser to share arguments between commands (``parents=``), and the group its arguments go in."""
    parent = _Parser(add_help=False)
    return parent, parent.add_argument_group(title) if title else parent


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; every ``--backend`` choice comes from the platform registry. With ``only`` (a command
    name), only that command's sub-parser and the argument groups it takes are built (the start-up of every run:
    :func:`_parse`); the others are not added at all.

    The flags of the run commands come in groups (``parents=``), each given only to the commands that read it:
    the run address (``run``, ``deploy``, ``watch``, ``cancel``), following (``run``, ``deploy``, ``watch``), starting
    (``run``, ``deploy``: parameters, ``--no-wait``, ``--run-id``, ``--manifest``), the state file (``run``,
    ``deploy``, ``cancel``) and local runs (``run``, ``deploy``)."""
    parser = _Parser(prog="pipeline-ci", description="CI/CD for Clarifai and PAI pipeline projects.")
    parser.add_argument("--version", action="version", version=f"pipeline-ci {__version__}")
    _verbosity(parser, None)

    common, group = _parent()  # -q/-v also after the command; the sub-parser's values win when given
    _verbosity(group, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    built: dict[Callable[[], _Parser], _Parser] = {}

    def command(name: str, help_text: str, *parents: Callable[[], _Parser]) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return _SKIPPED
        for make in parents:
            if make not in built:
                built[make] = make()
        return sub.add_parser(name, help=help_text, description=help_text,
                              parents=[common, *(built[make] for make in parents)])

    def dsl() -> _Parser:
        parent, group = _parent("Python-defined pipelines (pipeline_ci.dsl)")
        group.add_argument("--python", metavar="PYTHON",
                           help="the interpreter with the Clarifai SDK that compiles pipeline files (default: setting "
                                "python, else this one; also PIPELINE_CI_PYTHON)")
        return parent

    init = command("init", "create a pipeline project from a template, or (--ci github) add the CI files")
    init.add_argument("path", nargs="?", type=Path, default=Path("."),
                      help="the new project's folder; with --ci, the folder of the pipeline projects (default: .)")
    init.add_argument("--template", choices=("single", "dag", "training"), default="dag",
                      help="single: one step; dag: a fan-out and fan-in; training: parameters and a secret")
    init.add_argument("--ci", choices=("github",), help="write the CI files of the recommended team workflow instead")
    init.add_argument("--pipeline-id", help="the pipeline id (default: the folder's name)")
    init.add_argument("--user-id", help="Clarifai user id in the configs (default: CLARIFAI_USER_ID, from the "
                                        "environment or `clarifai login`)")
    init.add_argument("--app-id", default="pipeline-app", help="Clarifai app id in the configs")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")

    lint = command("lint", "check pipeline projects (configs, Argo spec, cross-file references, lockfiles)", dsl)
    lint.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="files or folders (default: .)")
    lint.add_argument("--format", choices=FORMATS, default="text",
                      help="report format")
    lint.add_argument("--output", "-o", type=Path, metavar="FILE",
                      help="write the report to FILE, whatever the format (stdout gets nothing; stderr one summary line)")
    lint.add_argument("--no-source", action="store_true",
                      help="text format: do not show the source line and a caret under each finding")
    lint.add_argument("--sarif-file", type=Path, metavar="PATH",
                      help="also write a SARIF report here, whatever --format is (in Actions: output sarif-file)")
    lint.add_argument("--require-fresh-locks", action="store_true", default=None,
                      help="a step whose content hash differs from its lockfile is an error")
    lint.add_argument("--strict", action="store_true", default=None, help="unknown keys in the Argo spec are errors")
    lint.add_argument("--select", metavar="RULES", help="comma-separated rule IDs or names to run (default: all)")
    lint.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    lint.add_argument("--config", type=Path,
                      help="settings file (default: .pipeline-ci.yaml or pyproject.toml, searched upwards)")

    hsh = command("hash", "print the Clarifai content hash of step folders, like md5sum")
    hsh.add_argument("dirs", nargs="+", type=Path, metavar="STEP_DIR", help="step folders")
    hsh.add_argument("--tracked-only", action="store_true", help="hash only files git tracks or has staged")

    schema = command("schema", "print a JSON Schema shipped with pipeline-ci")
    schema.add_argument("name", help="root-config, step-config, step-lock, root-lock or overrides")

    changed = command("changed", "report the steps that changed and need a new version", dsl)
    changed.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="files or folders (default: .)")
    changed.add_argument("--base", help="git base ref (default: from the GitHub event, else the merge base)")
    changed.add_argument("--head", help="git head ref (default: HEAD); it must be the checked-out commit, "
                         "since the work tree's files are what is hashed")
    changed.add_argument("--baseline", choices=("lock", "git", "both"), default="both",
                         help="what selects a step: lockfile hashes, git changes, or either")
    changed.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    changed.add_argument("--explain", action="store_true", help="say why each step was or was not selected")
    changed.add_argument("--all", action="store_true", dest="all_projects",
                         help="list every step of every project, unchanged ones included (loads them all)")

    upload = command("upload", "upload the changed steps as new versions and pin them in the lockfiles", dsl)
    upload.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="files or folders (default: .)")
    upload.add_argument("--backend", choices=_Backends("upload"), default="local", metavar="BACKEND",
                        help="%(choices)s")
    upload.add_argument("--dry-run", action="store_true", help="print the plan and the lockfile diff; change nothing")
    upload.add_argument("--context", metavar="NAME",
                        help="Clarifai: the Clarifai CLI config context for credentials missing from the environment")

    def address(placing: bool = True) -> _Parser:
        """Where the run is; ``placing``: also where a new run goes (``--instance``, ``--cloud``)."""
        parent, group = _parent("where the run is (default: the lockfile and config.yaml of the project)")
        flags = [("user-id", "Clarifai user id"), ("app-id", "Clarifai app id"),
                 ("pipeline-id", "Clarifai or PAI pipeline id"), ("pipeline-version-id", "Clarifai pipeline version id"),
                 ("compute-cluster-id", "Clarifai compute cluster id"), ("nodepool-id", "Clarifai nodepool id")]
        if placing:
            flags += [("instance", "Clarifai: instance type (e.g. g5.xlarge, A10G) whose compute cluster and nodepool "
                                   "are got or created"),
                      ("cloud", "Clarifai: cloud of --instance (default: the instance type's)"),
                      ("region", "PAI region; Clarifai: the cloud region of --instance (default: the instance type's)")]
        else:
            flags += [("region", "PAI region")]
        flags += [("workspace-id", "PAI workspace id"), ("endpoint", "PAI API endpoint (default: the region's)")]
        for flag, what in flags:
            group.add_argument(f"--{flag}", help=what)
        group.add_argument("--context", metavar="NAME",
                           help="Clarifai: the Clarifai CLI config context for credentials missing from the "
                                "environment (default: its current context)")
        return parent

    def attached() -> _Parser:
        return address(placing=False)

    def following() -> _Parser:
        parent, group = _parent("following the run")
        group.add_argument("--timeout", type=_seconds,
                           help="seconds to wait for the final status (remote default: 3600; local default: "
                                "setting local.timeout, 3600)")
        group.add_argument("--max-interval", type=_seconds, default=30.0,
                           help="longest pause between status polls, seconds")
        group.add_argument("--paused-grace", type=_seconds, default=600.0,
                           help="seconds a paused run may stay paused")
        return parent

    def starting() -> _Parser:
        parent, group = _parent("starting the run")
        group.add_argument("--overrides-file", type=Path, help="workflow parameters, JSON or YAML (a flat mapping)")
        group.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                           help="a parameter (wins over the file; repeatable)")
        group.add_argument("--no-wait", action="store_true", help="start the run, print its id and URL, exit 0")
        group.add_argument("--run-id", help="the run id to use (Clarifai: client-generated by default)")
        group.add_argument("--manifest", type=Path, help="PAI: a pipeline manifest to run instead of --pipeline-id")
        return parent

    def state() -> _Parser:
        parent, group = _parent()
        group.add_argument("--state-file", type=Path,
                           help="where the run id is saved for `pipeline-ci cancel` (default: $RUNNER_TEMP/"
                                "pipeline-ci-run.json in Actions, else .pipeline-ci/run.json)")
        return parent

    def local() -> _Parser:
        parent, group = _parent("local runs (--backend local)")
        group.add_argument("--parallelism", type=int, help="concurrent steps (default: as the spec allows)")
        group.add_argument("--isolation", choices=("auto", "venv", "none"), default="auto",
                           help="one virtualenv per requirements set, or the current environment")
        group.add_argument("--secrets-file", type=Path, help="KEY=VALUE file with step secrets")
        group.add_argument("--allow-unsupported", action="store_true",
                           help="run a spec with constructs the executor cannot run (those nodes end in Error)")
        group.add_argument("--semaphore", action="append", default=[], metavar="CONFIGMAP/KEY=N",
                           help="the limit of a ConfigMap semaphore of the spec's synchronization")
        return parent

    run_flags = (starting, state, following, local, address, dsl)

    run = command("run", "start a pipeline run, follow it and gate on its status", *run_flags)
    run.add_argument("path", nargs="?", type=Path, help="the pipeline project (default: found from the cwd)")
    run.add_argument("--backend", choices=_Backends("run"), default="local", metavar="BACKEND", help="%(choices)s")
    run.add_argument("--dry-run", action="store_true",
                     help="Clarifai: resolve the ids, parameters and compute (read-only) and print them; start nothing")

    deploy = command("deploy", "lint, upload changed steps, pin them; --run to run", *run_flags)
    deploy.add_argument("path", type=Path, help="the pipeline project")
    deploy.add_argument("--backend", choices=_Backends("upload"), default="local", metavar="BACKEND",
                        help="%(choices)s: where to upload (with --run, also where to run)")
    deploy.add_argument("--run", action="store_true", help="run the pipeline after deploying and gate on it")
    deploy.add_argument("--dry-run", action="store_true",
                        help="print the upload plan (with --run, also the run it would then start); change nothing")

    watch = command("watch", "follow an existing run with the same gating", following, attached)
    watch.add_argument("run_id_arg", metavar="RUN_ID", help="the run to follow")
    watch.add_argument("--backend", choices=_Backends("attach"), default="clarifai", metavar="BACKEND",
                       help="%(choices)s")
    watch.add_argument("--path", type=Path, help="the pipeline project whose lockfile holds the ids")

    cancel = command("cancel", "cancel a run (default: the one in the state file)", state, attached)
    cancel.add_argument("run_id_arg", metavar="RUN_ID", nargs="?", help="the run to cancel (default: the state file's)")
    cancel.add_argument("--backend", choices=_Backends("attach"), default=None, metavar="BACKEND",
                        help="%(choices)s")
    cancel.add_argument("--path", type=Path, help="the pipeline project whose lockfile holds the ids")

    for action, text in (("pause", "pause a run (default: the one in the state file)"),
                         ("resume", "resume a paused run (default: the one in the state file)")):
        change = command(action, text, state, attached)
        change.add_argument("run_id_arg", metavar="RUN_ID", nargs="?", help="the run (default: the state file's)")
        change.add_argument("--backend", choices=_Backends("pause"), default="clarifai", metavar="BACKEND",
                            help="%(choices)s")
        change.add_argument("--path", type=Path, help="the pipeline project whose lockfile holds the ids")

    graph = command("graph", "draw a project's pipeline (Mermaid for a README, or text)")
    graph.add_argument("path", nargs="?", type=Path, default=Path("."), help="the pipeline project (default: .)")
    graph.add_argument("--format", choices=("mermaid", "markdown", "text"), default="mermaid",
                       help="mermaid text, a fenced Markdown block, or an indented list (default: %(default)s)")
    graph.add_argument("--highlight", metavar="STEPS", help="comma-separated step ids or task names to mark")

    envs = command("envs", "list or prune the shared step virtualenvs of local runs (in $PIPELINE_CI_HOME/envs, "
                           "else ~/.cache/pipeline-ci/envs)")
    envs_actions = envs.add_subparsers(dest="envs_action", required=True, metavar="ACTION", parser_class=_Parser)
    envs_actions.add_parser("list", help="path, size, requirements hash, Python and last use of each env",
                            parents=[common])
    prune = envs_actions.add_parser("prune", help="remove envs not used for a while (and incomplete ones)",
                                    parents=[common])
    prune.add_argument("--older-than", type=float, metavar="DAYS",
                       help="remove the envs no run used for DAYS days (default: 30)")
    prune.add_argument("--all", action="store_true", help="remove every env (those being built are kept)")

    rules = command("rules", "list the lint rules, or explain one")
    rules.add_argument("rule", nargs="?", metavar="RULE", help="a rule ID or name to explain (default: list them all)")
    rules.add_argument("--format", choices=("text", "markdown"), default="text", help="output format")

    completion = command("completion", "print a shell completion script (e.g. `source <(pipeline-ci completion bash)`)")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="%(choices)s")
    return parser


def _verbosity(group: Any, default: Any) -> None:
    """``-q``/``-v`` (see :mod:`pipeline_ci.console`)."""
    group.add_argument("-q", "--quiet", action="store_true", default=default if default is not None else False,
                       help="print only results, warnings and errors")
    group.add_argument("-v", "--verbose", action="count", default=default if default is not None else 0,
                       help="also print platform request ids and timings (never secrets), and the projects changed skips")


def _parse(argv: list[str]) -> argparse.Namespace:
    """The parsed arguments; every argument error is a :class:`~pipeline_ci.errors.UsageError`.

    Only the sub-parser of the command being run is built (building all of them is most of a cached lint's
    start-up); the whole parser parses again whenever that fails, so ``--help`` without a command, a typo'd command
    and every error message are those of the whole command line."""
    from .errors import UsageError

    command = next((word for word in argv if not word.startswith("-")), None)
    if command in COMMANDS and "--" not in argv[:argv.index(command)]:
        try:
            return _parsed(_parser(command), argv)
        except UsageError:
            pass
    return _parsed(_parser(), argv)


def _parsed(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args, extras = parser.parse_known_args(argv)
    if extras:
        _unrecognized(parser, getattr(args, "command", None), extras)
    if args.quiet and args.verbose:
        from .errors import UsageError

        raise UsageError("-q/--quiet and -v/--verbose contradict each other", hint="give one of them")
    return args


def main(argv: list[str] | None = None) -> int:
    from . import console
    from .error_handler import print_error, run_command
    from .errors import PipelineCIError

    # Python's last garbage collections, as the process exits, would scan every object the command built and every
    # module it imported (a seventh of a Clarifai upload's CPU time: gRPC and its protobuf classes) to free nothing that
    # reference counting does not: they are frozen (out of the collector's reach) first. Once per process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parse(argv)
    except PipelineCIError as exc:
        print_error(exc, _err)
        return int(exc.exit_code)
    from . import commands

    console.set_verbosity(-1 if args.quiet else args.verbose)
    if getattr(args, "python", None):  # read by pipeline_ci.dsl wherever a pipeline file is compiled
        os.environ["PIPELINE_CI_PYTHON"] = args.python
    out = _progress if args.command in commands.REMOTE else _log

    def command() -> int:
        module = commands.load(args.command)
        env = _environment(args) if args.command in commands.REMOTE else os.environ
        return int(module.run(module.Options.from_args(args), env, out))

    return run_command(command, argv=argv, env=os.environ, say=_err)


def _environment(args: argparse.Namespace) -> Mapping[str, str]:
    """The environment of a command that may call a platform: Clarifai credentials missing from it are filled from
    the Clarifai CLI config (:mod:`pipeline_ci.platforms.clarifai.contexts`; where each came from is said on stderr,
    never the value), and every credential is masked in Actions before anything prints."""
    from .github import mask_credentials

    env: Mapping[str, str] = os.environ
    context = getattr(args, "context", None)
    # `cancel` without --backend addresses a Clarifai RUN_ID or the state file's run, which may be a Clarifai one
    if getattr(args, "backend", "") in ("clarifai", None) or context:
        from . import console
        from .platforms.clarifai import contexts

        resolved = contexts.resolve(os.environ, context)
        env = resolved.env
        if contexts.from_context(resolved) and not console.quiet():
            _err(f"pipeline-ci: {contexts.describe(resolved)}")
        else:
            console.debug(contexts.describe(resolved))
    mask_credentials(env)
    return env


def _log(line: str) -> None:
    """The writer of every command's progress and results: one line, made safe (see :mod:`.textsafe`) and
    coloured on a terminal (see :mod:`.console`)."""
    from .console import emit

    emit(line, sys.stdout)


def _progress(line: str) -> None:
    """The writer of the run commands (upload, deploy, run, watch, cancel): like :func:`_log`, but with ``-q`` only
    the ``pipeline-ci: ...`` lines (started run, verdict, warnings), a local run's verdict (``workflow NAME
    Succeeded in ...``) and lint findings (``file:line:col: error [RULE] ...``) are printed, not the progress and
    relayed logs."""
    from .console import FINDING, VERDICT, emit, quiet

    if quiet() and not (str(line).startswith("pipeline-ci:") or VERDICT.match(str(line)) or FINDING.match(str(line))):
        return
    emit(line, sys.stdout)


def _err(line: str) -> None:
    """The writer of error messages (stderr), made safe and coloured like :func:`_log`."""
    from .console import emit

    emit(line, sys.stderr)
