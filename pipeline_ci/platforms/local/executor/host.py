"""What the parts of the local executor need of each other, as small protocols (composition, not a mixin).

The steps scheduler (:mod:`.steps`) and the DAG scheduler (:mod:`.dagrun`) are peers over one node model
(:mod:`.model`), like ``steps.go`` and ``dag.go`` beside ``operator.go`` in Argo's workflow controller
(``workflow/controller/`` in argoproj/argo-workflows): each needs only a :class:`Scheduling` host, to run a
child step/task and to read the published globals. The pod runner (:class:`.pods.PodRunner`) needs only a
:class:`NodeBook`, to create, finish and export nodes. :class:`.engine.Engine` implements both and holds the
pod runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .model import Callee, Frame, NodeRecord, NodeResult


class Scheduling(Protocol):
    """What a template scheduler (steps, DAG) needs of the engine."""

    def globals(self) -> dict[str, str]:
        """A snapshot of the workflow-wide variables (``workflow.*``, published global outputs)."""
        ...

    def run_call(self, call: dict, scope: dict[str, str], path: str, frame: Frame) -> NodeResult:
        """Run one step or DAG task (its loop included) as a child node; never raises for bad input."""
        ...

    def callee(self, body: Mapping[str, Any]) -> Callee:
        """The template (or step folder) a step/task calls; raises :class:`.leaf.LeafError`."""
        ...

    def error_node(self, display: str, path: str, frame: Frame, label: str, message: str) -> NodeResult:
        """Record an Error node that never ran and return it."""
        ...

    def run_hooks(self, call: dict, scope: dict[str, str], prefix: str, res: NodeResult, path: str, frame: Frame
                  ) -> list[NodeResult]:
        """Run the lifecycle hooks of a finished step/task (``scope`` holds its published outputs)."""
        ...

    def skipped(self, callee: Callee | None, display: str, path: str, frame: Frame, phase: str, message: str
                ) -> NodeResult:
        """Record a Skipped/Omitted node and return it (with its empty outputs)."""
        ...


class NodeBook(Protocol):
    """What the pod runner needs of the engine: the run's node records and its published outputs."""

    def node(self, display: str, path: str, kind: str, template: str, frame: Frame) -> NodeRecord:
        """Create and register the record of a new node."""
        ...

    def finish(self, rec: NodeRecord, phase: str, message: str = "", *, quiet: bool = False) -> None:
        """Set a node's final phase and message (and say so on the console unless ``quiet``)."""
        ...

    def export(self, param: dict, outputs: dict[str, str]) -> None:
        """Publish an output parameter with a ``globalName`` as ``workflow.outputs.parameters.<name>``."""
        ...

    def export_artifact(self, name: str, location: str) -> None:
        """Publish an output artifact with a ``globalName`` as ``workflow.outputs.artifacts.<name>``."""
        ...
