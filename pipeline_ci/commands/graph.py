"""``pipeline-ci graph PATH``: draw a project's pipeline, as Mermaid (for a README or a job summary) or as text.

The diagram is :func:`pipeline_ci.report.mermaid.spec_flowchart`, the same one the job summaries of ``changed``
and ``deploy`` show. ``--highlight`` marks steps (Clarifai step ids or task names) the way those summaries mark
the changed ones. A project whose spec does not load is a usage error (exit 2) naming the file.
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
    path: Path
    format: str = "mermaid"  # mermaid, markdown (a fenced block) or text
    highlight: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        marked = tuple(s.strip() for s in (args.highlight or "").split(",") if s.strip())
        return cls(args.path, args.format, marked)


def run(options: Options, env: Env, out: Out) -> int:
    from ..discovery import CONFIG, display
    from ..project import load_project
    from ..report import mermaid

    root = options.path.parent if options.path.name == CONFIG else options.path
    if not (root / CONFIG).is_file():
        raise UsageError(f"{display(root)}: no {CONFIG} here", hint="give the folder of a pipeline project")
    project = load_project(root)
    if project.spec is None:
        where = (str(project.load_errors[0]) if project.load_errors
                 else f"{project.config_file}: no argo_orchestration_spec")
        raise UsageError(f"cannot draw the pipeline: {where}", hint=f"run: pipeline-ci lint {display(root)}")
    spec = project.spec.data
    graph = mermaid.build_graph(spec)
    if not graph.nodes:
        raise UsageError(f"{project.config_file}: the Argo spec has no entrypoint template to draw",
                         hint=f"run: pipeline-ci lint {display(root)}")
    known = {name for node in graph.all_nodes() for name in (node.name, node.step) if name}
    unknown = [name for name in options.highlight if name not in known]
    if unknown:
        from ..argo.variables import did_you_mean

        raise UsageError(f"--highlight: no step or task named {', '.join(map(repr, unknown))} in this pipeline"
                         f"{did_you_mean(unknown[0], known)}")
    if options.format == "text":
        text = mermaid.layers_text(spec, options.highlight)
    else:
        text = mermaid.spec_flowchart(spec, options.highlight)
        if options.format == "markdown":
            text = mermaid.fenced(text)
    for line in text.rstrip("\n").split("\n"):
        out(line)
    return ExitCode.OK
