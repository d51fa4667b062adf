"""Run following: poll budget and exit latency, measured in the same run.

    python bench/runs.py

1. The poll schedule over a 1-hour run (computed from the schedule itself, no sleeping, with the
   largest delays jitter allows, i.e. the fewest calls, and with the smallest): status calls.
   Target <= 150.
2. Against the Clarifai emulator: the time from the moment the run reaches its final status to
   the moment ``pipeline-ci run`` exits, compared with the poll interval in force at that moment.
   Target <= interval + 1 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline_ci.runs.follow import poll_delays  # noqa: E402


def calls_in(seconds: float, rng_value: float) -> int:
    elapsed, calls = 0.0, 0
    delays = poll_delays(30.0, rng=lambda: rng_value)
    while elapsed < seconds:
        calls += 1
        elapsed += next(delays)
    return calls


def exit_latency() -> None:
    from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
    from pipeline_ci.testing.projects import base_files

    pat = "bench-pat"
    with ClarifaiEmulator({pat}) as emu, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        for name, text in base_files().items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        env = {**os.environ, "CLARIFAI_PAT": pat, "CLARIFAI_API_BASE": f"http://{emu.address}"}
        cli = [sys.executable, "-m", "pipeline_ci"]
        subprocess.run([*cli, "upload", "--backend", "clarifai", str(root)], env=env, check=True,
                       capture_output=True)
        for interval in (1.0, 3.0):
            emu.script_run([(64001, 4), (64002, 1)])
            start = time.monotonic()
            subprocess.run([*cli, "run", str(root), "--backend", "clarifai", "--compute-cluster-id", "cc",
                            "--nodepool-id", "np", "--max-interval", str(interval)], env=env, check=True,
                           capture_output=True)
            ended = time.monotonic()
            run_id = list(emu.runs)[-1]
            final_poll = emu.final_status_reported[run_id]
            print(f"2. max interval {interval:.0f} s: final status seen -> exit {ended - final_poll:.2f} s "
                  f"(run took {ended - start:.1f} s; target <= {interval:.0f} s + 1 s)")


def main() -> None:
    fewest, most = calls_in(3600, 0.0), calls_in(3600, 1.0)
    print(f"1. status calls over a 1-hour run: {fewest}..{most} depending on jitter (target <= 150)")
    exit_latency()


if __name__ == "__main__":
    main()
