"""The run record of a local run (``<project>/.pipeline-ci/runs/<run-id>/record.json``) and its summary table.

The record holds the run id, the workflow parameters (never secrets: they are not parameters), the
options, the final phase and exit code, the global outputs, and one entry per node (see
:meth:`pipeline_ci.platforms.local.executor.model.NodeRecord.to_json`). Step logs are beside it in ``logs/``.
It is written when the run starts (phase ``Running``) and again when it ends.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .... import lockfiles
from ....hashing import STATE_DIR
from .model import DAG, POD, SKIPPED_NODE, STEPS, NodeRecord, iso

VERSION = 1


def new_run_id() -> str:
    """Sortable and unique enough: ``20260102-030405-a1b2c3``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def run_dir(root: Path, run_id: str) -> Path:
    return root / STATE_DIR / "runs" / run_id


@dataclass
class RunRecord:
    run_id: str
    project: str
    workflow: str
    started: float
    parameters: dict[str, str]
    options: dict[str, Any]
    phase: str = "Running"
    exit_code: int | None = None
    message: str = ""
    finished: float | None = None
    nodes: list[NodeRecord] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "run_id": self.run_id,
            "project": self.project,
            "workflow": self.workflow,
            "phase": self.phase,
            "exit_code": self.exit_code,
            "message": self.message,
            "started_at": iso(self.started),
            "finished_at": iso(self.finished),
            "duration": None if self.finished is None else round(self.finished - self.started, 3),
            "parameters": dict(self.parameters),
            "options": dict(self.options),
            "outputs": dict(self.outputs),
            "nodes": [n.to_json() for n in list(self.nodes)],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic(path, json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")


def summary_lines(record: RunRecord, record_path: Path | None = None) -> list[str]:
    """A fixed-width table of the nodes (indented by nesting) and a line with the workflow result."""
    rows = [("NODE", "PHASE", "DURATION", "EXIT", "TRIES", "MESSAGE")]
    for node in record.nodes:
        if node.depth == 0 and node.type in (STEPS, DAG):
            continue  # the workflow itself: the last line
        rows.append((
            "  " * max(0, node.depth - 1) + node.name,
            node.phase,
            "" if node.duration is None or node.type == SKIPPED_NODE else f"{node.duration:.2f}s",
            "" if node.exit_code is None else str(node.exit_code),
            str(node.attempts) if node.type == POD else "",
            node.message.splitlines()[0][:100] if node.message else "",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5] for row in rows]
    lines = [line.rstrip() for line in lines]
    took = "" if record.finished is None else f" in {record.finished - record.started:.2f}s"
    tail = f"workflow {record.workflow} {record.phase}{took}"
    if record.message:
        tail += f": {record.message}"
    lines.append(tail)
    if record_path is not None:
        lines.append(f"run record: {record_path}")
    return lines


def print_summary(record: RunRecord, out: Callable[[str], None], record_path: Path | None = None) -> None:
    for line in summary_lines(record, record_path):
        out(line)
