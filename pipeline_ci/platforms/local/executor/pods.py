"""Leaf nodes of the engine: secrets, retries, time limits, slots, outputs (Argo docs ``retries/``,
``walk-through/timeouts/``, ``walk-through/output-parameters/``).

:class:`PodRunner` is held by :class:`.engine.Engine` (composition: it sees the engine only as a
:class:`.host.NodeBook`). Each attempt of a leaf gets a
fresh temporary directory and takes the node's slots only while its process runs (not during the
backoff between attempts). A Clarifai step's interpreter comes from :mod:`.isolation`; preparing a
virtualenv runs through the same process runner, quietly, into the step log. Outputs: a Clarifai
step's ``result`` parameter is the ``result`` file in its ``TMPDIR`` (an absent file gives ``""``,
not an error) and is exported as ``workflow.outputs.parameters.<step id>-result``, like Clarifai's
adapter; a local template's ``valueFrom.path`` outputs are read from their mapped paths (missing
without ``default`` -> Error); ``globalName`` exports to ``workflow.outputs.parameters.<name>``.
An output file over ``local.max-output-size`` (default 1 MiB), or one that is not a regular file,
makes a node that succeeded Error with a message naming the file, its size and the limit; it is
never read whole.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import artifacts as arts
from .host import NodeBook
from .isolation import Isolation, IsolationError
from .leaf import Job, LeafError, LeafRunner, Outcome, base_env, local_command, read_text_output, step_argv
from .model import ERROR, FAILED, POD, SUCCEEDED, Callee, Frame, NodeRecord, NodeResult, Stop, acquire_all, release_all
from .retries import RetryPolicy, deadline, expression_allows
from .scope import SubstitutionError, substitute
from .secrets import MissingSecret, Secrets

INLINE = frozenset({"inline"})


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:60] or "sidecar"


class PodRunner:
    """Runs leaf nodes (Clarifai steps, script/container templates) for the engine, which holds one.

    It needs of the engine only a :class:`.host.NodeBook` (node records and exported outputs)."""

    def __init__(self, book: NodeBook, runner: LeafRunner, isolation: Isolation, secrets: Secrets,
                 say: Callable[[str], None]):
        self.book = book
        self.runner = runner
        self.isolation = isolation
        self.secrets = secrets
        self.say = say
        self.artifact_store: Path | None = None  # <run folder>/artifacts (set by the engine)

    def run(self, callee: Callee, inputs: dict[str, str], scope: dict[str, str], display: str, path: str,
            frame: Frame, step_name: str | None, artifacts: dict[str, str] | None = None) -> NodeResult:
        """Run one leaf node with its retries; its record, outputs and exports go to the node book.
        ``artifacts``: the call's input artifacts (name -> location in the run folder, or ``raw:<data>``)."""
        rec = self.book.node(display, path, POD, callee.label, frame)
        try:
            env = self.secrets.env_for(step_name) if step_name else {}
            strategy = substitute((callee.template or {}).get("retryStrategy"), scope, strict=False,
                                  skip=frozenset({"expression"}))
            policy = RetryPolicy.parse(strategy)
        except (MissingSecret, LeafError) as exc:
            self.book.finish(rec, ERROR, str(exc))
            return NodeResult(ERROR, str(exc), record=rec)
        delays, first, attempt = policy.delays(), time.monotonic(), 0
        produced: dict[str, str] = {}
        while True:
            rec.attempts = attempt + 1
            outcome, outputs = self.attempt(callee, inputs, {**scope, "retries": str(attempt)}, rec, frame, env,
                                            artifacts or {}, produced)
            if outcome.phase == SUCCEEDED or frame.stop.is_set():
                break
            delay = policy.next_delay(delays, outcome.phase, attempt, time.monotonic() - first)
            try:
                if delay is not None and not expression_allows(
                        strategy, scope, phase=outcome.phase, exit_code=outcome.exit_code, message=outcome.message,
                        duration=(rec.finished or time.time()) - (rec.started or time.time())):
                    self.say(f"[{display}] retryStrategy.expression is false: no more retries")
                    delay = None
            except LeafError as exc:
                outcome, delay = Outcome(ERROR, outcome.exit_code, str(exc)), None
            if delay is None:
                break
            self.say(f"[{display}] attempt {attempt + 1} {outcome.phase}: {outcome.message}; retrying in {delay:g}s")
            if frame.stop.wait(delay):
                break
            attempt += 1
        rec.exit_code = outcome.exit_code
        rec.outputs = {k: self.secrets.mask(v) for k, v in outputs.items()}  # the record's copy
        self.book.finish(rec, outcome.phase, outcome.message)
        if callee.target is not None:
            self.book.export({"name": "result", "globalName": f"{callee.label}-result"}, outputs)
        for param in ((callee.template or {}).get("outputs") or {}).get("parameters") or []:
            if isinstance(param, dict):
                self.book.export(param, outputs)
        result = outcome.stdout if outcome.exit_code is not None else ""
        for art in arts.declared(callee.template or {}, "outputs"):
            name = art.get("globalName")
            if isinstance(name, str) and name and art["name"] in produced:
                self.book.export_artifact(name, produced[art["name"]])
        return NodeResult(outcome.phase, outcome.message, outputs=outputs, result=result,
                          exit_code=outcome.exit_code, record=rec, artifacts=dict(produced))

    def attempt(self, callee: Callee, inputs: dict[str, str], scope: dict[str, str], rec: NodeRecord,
                frame: Frame, env: dict[str, str], artifacts: dict[str, str] | None = None,
                produced: dict[str, str] | None = None) -> tuple[Outcome, dict[str, str]]:
        """One attempt of a leaf in a fresh temporary directory (removed afterwards); its output artifacts go
        to ``produced``."""
        tmpdir = Path(tempfile.mkdtemp(prefix="pipeline-ci-"))
        try:
            if not acquire_all(frame.limits, frame.stop):
                return Outcome(FAILED, None, f"not started: {frame.stop.message}"), {}
            try:
                if rec.started is None:
                    rec.started = time.time()
                    self.say(f"[{rec.name}] started ({rec.template})")
                side: list[Job] = []
                job, read = self._job(callee, inputs, scope, rec, frame, env, tmpdir, artifacts or {}, side)
                with self._sidecars(side, rec):
                    outcome = self.runner.run(job, frame.stop, on_pid=rec.pids.append)
            finally:
                rec.finished = time.time()  # a leaf's record spans the time it held its slots
                release_all(frame.limits)
            outputs = read(outcome)
            if outcome.phase == SUCCEEDED and callee.template is not None and produced is not None:
                store = self.artifact_store or tmpdir / "artifacts"
                produced.update(arts.collect_outputs(callee.template, tmpdir, store, f"{rec.id:03d}"))
        except (LeafError, IsolationError, SubstitutionError) as exc:
            return Outcome(ERROR, None, str(exc)), {}
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        return outcome, outputs

    @contextmanager
    def _sidecars(self, jobs: list[Job], rec: NodeRecord) -> Iterator[None]:
        """Run a leaf's ``sidecars`` beside its main process (same folder and environment, a log each) and stop
        them when it ends, as Argo's wait container does; their exit status does not matter."""
        if not jobs:
            yield
            return
        stop = Stop()
        threads = [threading.Thread(target=self.runner.run, args=(job, stop), kwargs={"on_pid": rec.pids.append},
                                    daemon=True, name="pipeline-ci-sidecar") for job in jobs]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.fire("sidecar", "the main container ended")
            for thread in threads:
                thread.join()

    def _job(self, callee: Callee, inputs: dict[str, str], scope: dict[str, str], rec: NodeRecord, frame: Frame,
             env: dict[str, str], tmpdir: Path, artifacts: dict[str, str] | None = None,
             sidecars: list[Job] | None = None) -> tuple[Job, Callable[[Outcome], dict[str, str]]]:
        log = Path(str(rec.log))
        limit, setting = self.runner.limits.max_output_size, self.runner.limits.setting("max-output-size")
        if callee.target is not None:
            quiet = Job(rec.name, [], callee.target.path, base_env(tmpdir, {}), log, echo=False)

            def run_quiet(argv: list[str], what: str, on_line: Callable[[str], None] | None = None) -> int:
                self.runner.note(log, f"--- {what} ---")
                outcome = self.runner.run(replace(quiet, argv=argv, on_line=on_line), frame.stop)
                return 1 if outcome.exit_code is None else outcome.exit_code

            python = self.isolation.python_for(callee.target.path, run_quiet, lambda m: self.say(f"[{rec.name}] {m}"))
            job = Job(rec.name, step_argv(python, inputs), callee.target.path, base_env(tmpdir, env), log)

            def read_result(outcome: Outcome) -> dict[str, str]:
                try:
                    text = read_text_output(tmpdir / "result", limit, what="'result' (the step's file $TMPDIR/result)",
                                            setting=setting)
                except LeafError:
                    if outcome.phase == SUCCEEDED:
                        raise
                    text = None  # the step's own failure says more
                if text is None and outcome.phase == SUCCEEDED:  # never silent: a reader would get ""
                    self.say(f"[{rec.name}] note: the step wrote no $TMPDIR/result, so its outputs.parameters.result "
                             "is empty (a step reports its output by writing that file; printing it is not enough)")
                return {"result": text or ""}

            return job, read_result
        tmpl = callee.template or {}
        declared = [p for p in (tmpl.get("outputs") or {}).get("parameters") or [] if isinstance(p, dict)]
        paths = {str(p.get("name")): str(substitute(p["valueFrom"].get("path"), scope, strict=False))
                 for p in declared if isinstance(p.get("valueFrom"), dict) and p["valueFrom"].get("path")}
        scope = {**scope, **{f"outputs.parameters.{n}.path": p for n, p in paths.items()}}
        store = self.artifact_store or tmpdir / "artifacts"
        in_arts = arts.resolve_inputs(tmpl, artifacts or {}, store, f"{rec.id:03d}")
        for art in in_arts.values():
            scope[f"inputs.artifacts.{art.name}.path"] = art.path
        for out in arts.declared(tmpl, "outputs"):
            if isinstance(out.get("path"), str):
                scope[f"outputs.artifacts.{out['name']}.path"] = out["path"]
        body = substitute(tmpl, scope, strict=True, skip=INLINE)
        arts.place_inputs(in_arts, tmpdir, body)
        command = local_command(body, tmpdir, self.isolation.base_python, {**paths, **arts.path_map(body, in_arts)})
        job = Job(rec.name, command.argv, tmpdir, base_env(tmpdir, {**command.env, **env}), log, deadline(body))
        for i, car in enumerate(body.get("sidecars") or []):
            if isinstance(car, dict) and sidecars is not None:
                name = str(car.get("name") or i)
                side = local_command({"name": f"{body.get('name')}/{name}", "container": car}, tmpdir,
                                     self.isolation.base_python, {})
                sidecars.append(Job(f"{rec.name}/{name}", side.argv, tmpdir, base_env(tmpdir, {**side.env, **env}),
                                    log.with_name(f"{log.stem}.{_safe(name)}{log.suffix}")))

        def read(outcome: Outcome) -> dict[str, str]:
            outputs: dict[str, str] = {}
            for spec in command.outputs:
                text = spec.value if spec.value is not None else None
                if text is None and spec.local_path is not None:
                    try:
                        text = read_text_output(spec.local_path, limit, what=f"'{spec.name}' ({paths.get(spec.name)})",
                                                setting=setting)
                    except LeafError:
                        if outcome.phase == SUCCEEDED:
                            raise
                if text is None:
                    text = spec.default
                if text is None and outcome.phase == SUCCEEDED:
                    raise LeafError(f"output parameter '{spec.name}': {paths.get(spec.name)} was not written")
                outputs[spec.name] = text or ""
            return outputs

        return job, read
