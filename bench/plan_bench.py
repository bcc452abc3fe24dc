"""How long the ``full`` profile takes to list and a cell process takes to start.

Side by side in one run, alternating: this checkout against the code before the plan was
written once per run (:data:`BASELINE`, checked out in a scratch worktree). For each:

* ``list``: ``nox -l -t cells --json`` with ``MATRIX_PROFILE=full``, from a fresh results
  folder (``cold``: the run's first listing plans and writes the plan) and again (``warm``:
  every later listing and every cell process reads the written plan);
* ``cell start``: ``python -m matrix cell <id>`` from its start to its first command (the
  ``+ uv ...`` line it echoes), then stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "379c5f7"  # the last commit that planned the whole matrix in every process


def baseline_checkout(work: Path) -> Path | None:
    """The baseline code in ``work/baseline`` (a detached worktree), or None without git."""
    target = work / "baseline"
    if (target / "noxfile.py").is_file():
        return target
    done = subprocess.run(
        ["git", "worktree", "add", "--force", "--detach", str(target), BASELINE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return target if done.returncode == 0 else None


def listing_seconds(root: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of ``nox -l -t cells --json`` in ``root``, and how many cells it listed."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "-t", "cells", "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    took = time.perf_counter() - start
    return round(took, 3), done.stdout.count('"session"') if done.returncode == 0 else -1


def cell_start_seconds(root: Path, env: dict[str, str], cell_id: str) -> float | None:
    """Seconds from starting ``python -m matrix cell`` to its first echoed command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "matrix", "cell", cell_id, "--fresh"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    took = None
    try:
        for line in proc.stderr:
            if "+ " in line and "uv" in line:
                took = round(time.perf_counter() - start, 3)
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return took


def first_cell(root: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "-t", "cells", "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    import json

    return json.loads(done.stdout)[0]["call_spec"]["cell"]


def measure(work: Path, env: dict[str, str], reps: int) -> dict:
    """Samples of every measure, before and after, alternating within each repetition."""
    sides = {"after": ROOT, "before": baseline_checkout(work)}
    samples: dict[str, dict[str, list]] = {
        side: {"list_cold": [], "list_warm": [], "cell_start": [], "cells": []}
        for side, root in sides.items()
        if root
    }
    for _rep in range(reps):
        for side, found in samples.items():
            out = work / f"plan-{side}"
            shutil.rmtree(out, ignore_errors=True)
            mine = {
                **env,
                "MATRIX_PROFILE": "full",
                "MATRIX_OUT": str(out),
                "MATRIX_ENVS": str(work / "plan-envs"),
            }
            cold, cells = listing_seconds(sides[side], mine)
            warm, _ = listing_seconds(sides[side], mine)
            found["list_cold"].append(cold)
            found["list_warm"].append(warm)
            found["cells"].append(cells)
            found["cell_start"].append(
                cell_start_seconds(sides[side], mine, first_cell(sides[side], mine))
            )
    return samples
