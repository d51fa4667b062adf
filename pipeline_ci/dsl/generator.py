"""The generator subprocess: compile one Python-defined (DSL) Clarifai pipeline with the user's own SDK.

Run as a script, never imported by pipeline-ci itself (it needs nothing but the standard library and the user's
``clarifai`` package)::

    python generator.py PIPELINE_FILE OUTPUT_DIR RESULT_JSON

It does exactly what ``clarifai pipeline compile PIPELINE_FILE --output-dir OUTPUT_DIR`` does
(``load_pipeline_from_file`` then ``Pipeline.generate``, the SDK's ``clarifai/cli/pipeline.py``), so the tree is
byte-for-byte the CLI's, and records on the side, in ``RESULT_JSON``:

- ``sdk_version`` and ``sdk_marker`` (a file of the installed distribution whose stat says the SDK changed);
- ``inputs``: every file the compilation opened outside the Python installation (the pipeline file, its local
  imports, requirements files, assets read at import time), from an audit hook on ``open``;
- the source lines of what the generated files come from: each ``@step`` (decorator, ``def`` and parameter
  lines), each ``step_ref(...)`` call, each node (the call that added it and its keyword arguments), each
  ``pipeline.input(...)`` and the ``Pipeline(...)`` call.

On failure it writes ``{"error": kind, "message", "traceback"}`` (the traceback holds the user's frames only) and
exits 3; kinds: ``sdk-missing``, ``import`` (the file raised), ``generate`` (the SDK refused the pipeline).
"""

import ast
import inspect
import json
import os
import sys
import traceback

FAILED = 3


def _user_frames(tb, skip):
    """The frames of ``tb`` in the user's files (not the SDK, importlib or this script)."""
    return [f for f in traceback.extract_tb(tb) if not skip(f.filename)]


def _write(path, data):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)


def _installation():
    """Folder prefixes of the Python installation (standard library, site-packages): files opened there are not
    inputs of the pipeline (the SDK's own are covered by its version). Not ``sys.prefix`` as a whole: a project may
    live under it (``/usr/src/app`` with Python in ``/usr``)."""
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    folders = [paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    try:
        folders += site.getsitepackages() + [site.getusersitepackages()]
    except AttributeError:  # an old virtualenv's site module
        pass
    return tuple({os.path.realpath(f) + os.sep for f in folders if f})


def main(argv):
    source, output_dir, result_path = argv
    source = os.path.abspath(source)
    del sys.path[0]  # this script's folder: the SDK's console script does not see it either
    sys.dont_write_bytecode = True  # leave no __pycache__ next to the user's files
    prefixes = _installation()
    here = os.path.realpath(__file__)
    inputs = {os.path.realpath(source): None}

    def audit(event, args):
        if event != "open" or not args or not isinstance(args[0], str):
            return
        mode = args[1] if len(args) > 1 else None
        if isinstance(mode, str) and set(mode) & set("wax+"):
            return
        path = os.path.realpath(os.path.abspath(args[0]))
        if not path.startswith(prefixes) and path != here and os.path.isfile(path):
            inputs.setdefault(path, None)

    try:
        import importlib

        import clarifai
        from clarifai.runners.pipelines import load_pipeline_from_file

        pipeline_mod = importlib.import_module("clarifai.runners.pipelines.pipeline")  # the package re-exports
        step_mod = importlib.import_module("clarifai.runners.pipelines.step")  # names that hide these modules
    except ImportError as exc:
        _write(result_path, {"error": "sdk-missing", "message": f"{type(exc).__name__}: {exc}",
                             "python": sys.executable})
        return FAILED
    sdk_dir = os.path.dirname(os.path.realpath(clarifai.__file__)) + os.sep

    def skip(filename):
        real = os.path.realpath(filename)
        return filename.startswith("<") or real.startswith(sdk_dir) or real == here

    def caller():
        """``[file, line]`` of the innermost frame in the user's code."""
        frame = sys._getframe(2)
        while frame is not None and skip(frame.f_code.co_filename):
            frame = frame.f_back
        return [os.path.realpath(frame.f_code.co_filename), frame.f_lineno] if frame else [source, 1]

    record = {"steps": {}, "refs": {}, "nodes": {}, "inputs_params": {}, "pipeline": None}
    definitions = []

    original_step_init = step_mod.StepDefinition.__init__

    def step_init(self, func, **kwargs):
        original_step_init(self, func, **kwargs)
        definitions.append(self)

    original_ref_init = step_mod.ExistingStepDefinition.__init__

    def ref_init(self, **kwargs):
        original_ref_init(self, **kwargs)
        record["refs"].setdefault(self.id, caller())

    original_pipeline_init = pipeline_mod.Pipeline.__init__

    def pipeline_init(self, *args, **kwargs):
        original_pipeline_init(self, *args, **kwargs)
        record["pipeline"] = caller()

    original_input = pipeline_mod.Pipeline.input

    def pipeline_input(self, param_name, default=None):
        record["inputs_params"].setdefault(param_name, caller())
        return original_input(self, param_name, default)

    original_add_node = pipeline_mod.Pipeline.add_node

    def add_node(self, step_definition, arguments, name=None):
        node = original_add_node(self, step_definition, arguments, name)
        at = caller()
        record["nodes"][node.name] = {"at": at, "step": step_definition.id, "args": _keywords(*at, set(arguments))}
        return node

    step_mod.StepDefinition.__init__ = step_init
    step_mod.ExistingStepDefinition.__init__ = ref_init
    pipeline_mod.Pipeline.__init__ = pipeline_init
    pipeline_mod.Pipeline.input = pipeline_input
    pipeline_mod.Pipeline.add_node = add_node
    sys.addaudithook(audit)
    try:
        pipeline = load_pipeline_from_file(source)
    except BaseException as exc:  # the user's file raised (SyntaxError, ImportError, anything)
        frames = _user_frames(exc.__traceback__, skip)
        text = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames),
                        *traceback.format_exception_only(type(exc), exc)]) if frames \
            else "".join(traceback.format_exception_only(type(exc), exc))
        where = [os.path.realpath(frames[-1].filename), frames[-1].lineno] if frames else None
        if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
            where = [os.path.realpath(exc.filename), exc.lineno]
        _write(result_path, {"error": "import", "message": f"{type(exc).__name__}: {exc}", "traceback": text,
                             "where": where, "inputs": list(inputs)})
        return FAILED
    try:
        pipeline.generate(output_dir)
    except BaseException as exc:
        frames = _user_frames(exc.__traceback__, skip)
        _write(result_path, {"error": "generate", "message": f"{type(exc).__name__}: {exc}",
                             "traceback": "".join(traceback.format_list(frames)), "inputs": list(inputs)})
        return FAILED
    for definition in definitions:
        record["steps"][definition.id] = _step_lines(definition)
    try:
        from importlib.metadata import distribution

        dist = distribution("clarifai")
        version = dist.version
        marker = next((str(dist.locate_file(f)) for f in dist.files or () if str(f).endswith("RECORD")), None)
    except Exception:  # noqa: BLE001 - an SDK installed without metadata: its package folder stands in
        version, marker = getattr(clarifai, "__version__", "unknown"), None
    record.update(sdk_version=version, sdk_marker=os.path.realpath(marker or clarifai.__file__),
                  pipeline_id=pipeline.id, source=source, inputs=sorted(inputs), python=sys.executable)
    _write(result_path, record)
    return 0


_TREES: dict = {}


def _tree(file):
    if file not in _TREES:
        try:
            with open(file, encoding="utf-8") as fh:
                _TREES[file] = ast.parse(fh.read())
        except (OSError, SyntaxError, ValueError):
            _TREES[file] = None
    return _TREES[file]


def _keywords(file, line, names):
    """``{keyword: [line, col]}`` of the innermost call spanning ``line`` of ``file`` whose keywords are among
    ``names`` (the call that added a node with these arguments)."""
    tree = _tree(file)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno <= line <= (n.end_lineno or n.lineno)
             and {kw.arg for kw in n.keywords if kw.arg} <= names and (n.keywords or not names)] if tree else []
    if not calls:
        return {}
    call = min(calls, key=lambda n: ((n.end_lineno or n.lineno) - n.lineno, -n.col_offset))
    return {kw.arg: [kw.lineno, kw.col_offset + 1] for kw in call.keywords if kw.arg}


def _step_lines(definition):
    """Where a ``@step`` function is defined: ``file``, decorator ``line``, ``def`` line and each parameter's
    ``[line, col]`` (from the function's own syntax tree)."""
    func = definition.func
    file = os.path.realpath(inspect.getsourcefile(func) or "")
    first = func.__code__.co_firstlineno
    out = {"file": file, "line": first, "def": first, "params": {}}
    tree = _tree(file)
    for node in ast.walk(tree) if tree else ():
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != func.__name__:
            continue
        decorated = min([d.lineno for d in node.decorator_list] + [node.lineno])
        if first not in (decorated, node.lineno):
            continue
        out["line"], out["def"] = decorated, node.lineno
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            out["params"][arg.arg] = [arg.lineno, arg.col_offset + 1]
        for deco in node.decorator_list:
            for kw in getattr(deco, "keywords", []):
                out["params"].setdefault("@" + str(kw.arg), [kw.value.lineno, kw.value.col_offset + 1])
        break
    return out


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # the SDK's modules and objects are put out of the garbage collector's reach: its last collections, as the
    # process exits, would scan them all (a sixth of a compilation) to free nothing that reference counting does not
    import gc

    gc.freeze()
    sys.exit(code)
