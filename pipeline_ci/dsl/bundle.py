"""Generating the YAML bundle of a Python-defined pipeline, in a subprocess with the user's SDK, and caching it.

The bundle of ``dir/pipeline.py`` lives in ``dir/.pipeline-ci/dsl/pipeline/`` (git-ignored)::

    bundle/      exactly what ``clarifai pipeline compile pipeline.py --output-dir bundle`` writes, run in ``dir``
                 (plus ``bundle/.pipeline-ci/``, the local backend's store for this pipeline)
    meta.json    the generator's record: SDK version, input files, the source lines of steps and nodes
    key.json     what the bundle was generated from (see :func:`_static_key` and :func:`_fresh`)
    link.json    the committed bundle it belongs to (:mod:`pipeline_ci.dsl.resolve`)
    preview/     the committed bundle overlaid with ``bundle/``: ``changed`` and ``upload --dry-run`` plan on it
    base-src/    the input files as of a base commit, compiled by ``changed`` (:mod:`pipeline_ci.dsl.changes`)

The generator (:mod:`pipeline_ci.dsl.generator`) runs as ``PYTHON generator.py FILE OUT RESULT`` in the folder of
the pipeline file, with the caller's environment (``PATH`` decides whether the SDK finds ``ruff`` to format the step
scripts, exactly as for ``clarifai pipeline compile``), minus the credentials (``CLARIFAI_PAT``, ...): compiling
needs none, and the user's module runs at import. The interpreter: ``--python`` (``PIPELINE_CI_PYTHON``), the
``python:`` setting, else the one running pipeline-ci.

The cache is reused while every input is unchanged: the generator script, the interpreter, ``ruff`` on ``PATH``,
``PYTHONPATH``, the SDK installation (a file of its distribution, by size and mtime) and the content (sha256) of
every file the compilation opened outside the Python installation (the pipeline file, its local imports,
requirements files, assets). A lock file serialises concurrent generations of the same pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..discovery import display, real
from ..errors import UsageError
from ..hashing import STATE_DIR as STATE
from ..records import NamedTuple

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:
    from typing import Any

GENERATOR = Path(__file__).with_name("generator.py")
BUNDLE = "bundle"
TIMEOUT = 300.0  # seconds for one generation (the user's module runs at import)
PYTHON_ENV = "PIPELINE_CI_PYTHON"
SDK_EXTRA = "pip install 'pipeline-ci[dsl]' (the Clarifai SDK, clarifai>=12.5)"


class DslError(UsageError):
    """A Python pipeline file cannot be compiled (missing SDK, the file raised, the SDK refused it): exit 2."""


class Bundle(NamedTuple):
    """A generated bundle: ``root`` (a pipeline project folder), ``source`` (the ``.py``) and the generator's
    ``meta`` record (see :mod:`pipeline_ci.dsl.generator`)."""

    source: Path
    root: Path
    meta: dict[str, Any]

    @property
    def pipeline_id(self) -> str:
        return str(self.meta.get("pipeline_id") or "")


def cache_dir(source: Path) -> Path:
    """``<folder of source>/.pipeline-ci/dsl/<stem>``."""
    return real(source).parent / STATE / "dsl" / source.stem


def is_bundle(root: Path) -> bool:
    """Is ``root`` a generated DSL bundle (``.../.pipeline-ci/dsl/<stem>/bundle``)? No file is read."""
    if root.name not in (BUNDLE, "", "..") and not os.path.islink(root):  # resolving cannot make it end in "bundle"
        return False
    parts = real(root).parts
    return len(parts) >= 4 and parts[-1] == BUNDLE and parts[-3] == "dsl" and parts[-4] == STATE


def bundle_meta(root: Path) -> dict[str, Any] | None:
    """The generator's record of the bundle at ``root``, or None when ``root`` is not a DSL bundle."""
    if not is_bundle(root):
        return None
    try:
        data = json.loads((real(root).parent / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def interpreter(env: Mapping[str, str], setting: str | None = None) -> str:
    """The Python that compiles pipeline files: ``--python``/``PIPELINE_CI_PYTHON``, the setting, or ours."""
    import shutil
    import sys

    chosen = env.get(PYTHON_ENV) or setting
    if not chosen:
        return sys.executable
    found = shutil.which(chosen, path=env.get("PATH")) if os.sep not in chosen else chosen
    if not found or not os.access(found, os.X_OK):
        origin = f"--python/{PYTHON_ENV}" if env.get(PYTHON_ENV) else "the python setting"
        raise DslError(f"Python interpreter {chosen!r} not found (from {origin})",
                       hint="give the path of a Python that has the Clarifai SDK installed")
    return os.path.abspath(found)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _stat(path: str | None) -> list[int] | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _static_key(source: Path, python: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The inputs known before generating: generator, interpreter, ruff, PYTHONPATH, the file itself."""
    import shutil

    ruff = shutil.which("ruff", path=env.get("PATH"))
    return {"generator": _sha256(GENERATOR), "python": python, "python_stat": _stat(python), "ruff": ruff,
            "ruff_stat": _stat(ruff), "pythonpath": env.get("PYTHONPATH", ""), "source": str(real(source))}


def _fresh(folder: Path, static: dict[str, Any]) -> dict[str, Any] | None:
    """The cached record when every input of the cached bundle is unchanged, else None."""
    try:
        key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(key, dict) or key.get("static") != static or not (folder / BUNDLE / "config.yaml").is_file():
        return None
    if _stat(key.get("sdk_marker")) != key.get("sdk_stat"):
        return None
    inputs = key.get("inputs")
    if not isinstance(inputs, dict) or any(_sha256(Path(p)) != digest for p, digest in inputs.items()):
        return None
    return meta if isinstance(meta, dict) else None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder.parents[1] / ".gitignore"  # .pipeline-ci/.gitignore: nothing of pipeline-ci's state is tracked
    if not ignore.exists():
        ignore.write_text("# pipeline-ci local state\n*\n", encoding="utf-8")
    with open(folder / ".lock", "w") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: no lock, generations of one file may race
            pass
        yield


def materialize(source: Path, env: Mapping[str, str], *, python_setting: str | None = None) -> Bundle:
    """The bundle of the pipeline file ``source``, generated now or reused from the cache."""
    if not source.is_file():
        raise DslError(f"no such file: {display(source)}")
    python = interpreter(env, python_setting)
    folder = cache_dir(source)
    static = _static_key(source, python, env)
    meta = _fresh(folder, static)
    if meta is not None:
        return Bundle(real(source), folder / BUNDLE, meta)
    with _locked(folder):
        meta = _fresh(folder, static)  # another process may have generated it while we waited
        if meta is None:
            from ..lockfiles import write_atomic  # (and PyYAML): only when a bundle is generated

            meta = _generate(source, python, folder, env)
            inputs = {p: _sha256(Path(p)) for p in meta.get("inputs", [])}
            key = {"static": static, "sdk_marker": meta.get("sdk_marker"), "sdk_stat": _stat(meta.get("sdk_marker")),
                   "inputs": inputs}
            write_atomic(folder / "meta.json", json.dumps(meta, indent=1))
            write_atomic(folder / "key.json", json.dumps(key, indent=1))  # last: it makes the cache entry valid
    return Bundle(real(source), folder / BUNDLE, meta)


def _generate(source: Path, python: str, folder: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Run the generator into a fresh folder and swap it in as ``bundle/`` (keeping the local store)."""
    import shutil
    import subprocess
    import tempfile

    from ..github import CREDENTIALS

    work = Path(tempfile.mkdtemp(prefix="gen-", dir=folder))
    child_env = {k: v for k, v in env.items() if k not in CREDENTIALS}  # compiling needs no credential
    try:
        out, result = work / BUNDLE, work / "result.json"
        try:
            proc = subprocess.run([python, str(GENERATOR), str(real(source)), str(out), str(result)],
                                  cwd=real(source).parent, env=child_env, capture_output=True, text=True,
                                  timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise DslError(f"{display(source)}: compiling the pipeline took more than {TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise DslError(f"cannot run {python}: {exc.strerror or exc}") from None
        try:
            meta = json.loads(result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-20:]
            raise DslError(f"{display(source)}: the pipeline generator failed (exit {proc.returncode})",
                           details=tail) from None
        if "error" in meta:
            raise _error(source, meta)
        old = folder / BUNDLE
        state = old / STATE
        if state.is_dir():  # the local backend's store for this pipeline survives regeneration
            shutil.move(str(state), str(out / STATE))
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        return meta
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _error(source: Path, meta: dict[str, Any]) -> DslError:
    kind, message = meta.get("error"), str(meta.get("message", ""))
    if kind == "sdk-missing":
        return DslError(f"{display(source)}: the Clarifai SDK (clarifai>=12.5, clarifai.runners.pipelines) is not "
                        f"importable by {meta.get('python')}: {message}",
                        hint=f"{SDK_EXTRA}, or choose an interpreter that has it: --python PATH, the `python:` "
                             f"setting or {PYTHON_ENV}")
    where = meta.get("where")
    at = f"{display(Path(where[0]))}:{where[1]}: " if isinstance(where, list) and len(where) == 2 else ""
    what = f"importing {display(source)} raised" if kind == "import" else \
        f"the SDK cannot compile {display(source)}:"
    details = str(meta.get("traceback") or "").rstrip("\n").splitlines()
    return DslError(f"{at or display(source) + ': '}{what} {message}", details=details)
