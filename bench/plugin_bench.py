"""What the pytest plugin (pytest-loop-compat) costs a suite without the conflict.

One uv env (Python 3.13, pytest 8.4.2, pytest-asyncio 1.5.0, pytest-playwright 0.7.1,
playwright 1.56.0) with the plugin's wheel built from this checkout; the control probe
(the async tests alone: nothing for the plugin to report) run alternately with the plugin
(``-p loop_compat`` by its entry point) and without (``-p no:loop_compat``), in one run, so
both sides see the same machine load. Each side's median wall time, and their ratio; the
plugin must print nothing.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS = ("pytest==8.4.2", "pytest-asyncio==1.5.0", "pytest-playwright==0.7.1", "playwright==1.56.0")
COPIES = 20  # the control probe's tests, copied: 140 tests, so per-test hooks show


def _env(work: Path, env: dict[str, str]) -> Path:
    """The env with the pins and the plugin's wheel."""
    wheel_dir, venv = work / "plugin-wheel", work / "plugin-env"
    shutil.rmtree(wheel_dir, ignore_errors=True)
    subprocess.run(
        ["uv", "build", "--wheel", "--quiet", "-o", str(wheel_dir), str(ROOT / "plugin")],
        check=True,
        env=env,
    )
    subprocess.run(
        [
            "uv",
            "venv",
            "--quiet",
            "--clear",
            "--python",
            "3.13",
            "--no-python-downloads",
            str(venv),
        ],
        check=True,
        env=env,
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            *PINS,
            *map(str, wheel_dir.glob("*.whl")),
        ],
        check=True,
        env=env,
    )
    return python


def _suite(work: Path) -> Path:
    """The control probe with its tests copied COPIES times."""
    project = work / "plugin-suite"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(ROOT / "probes" / "control", project, symlinks=False)
    for folder in ("integration", "unit"):
        tests = project / "tests" / folder
        for source in sorted(tests.glob("test_*.py")):
            for n in range(1, COPIES):
                shutil.copy(source, tests / f"{source.stem}_{n}.py")
    return project


def _once(python: Path, project: Path, env: dict[str, str], *args: str) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )
    return time.perf_counter() - start, done.stdout, done.returncode


def measure(work: Path, env: dict[str, str], reps: int) -> dict:
    """Alternating runs with and without the plugin: samples, medians, ratio, and whether
    the plugin stayed silent."""
    python, project = _env(work, env), _suite(work)
    samples: dict[str, list[float]] = {"with": [], "without": []}
    silent, failed = True, 0
    sides = [("without", ("-p", "no:loop_compat")), ("with", ())]
    _once(python, project, env)  # a first run warms the caches for both sides
    for rep in range(reps):
        for side, args in sides[::-1] if rep % 2 else sides:  # neither side always first
            took, out, code = _once(python, project, env, *args)
            samples[side].append(took)
            failed += code != 0
            silent &= side == "without" or "loop-compat" not in out
    medians = {side: statistics.median(values) for side, values in samples.items()}
    return {
        "samples": samples,
        "median_with": medians["with"],
        "median_without": medians["without"],
        "ratio": medians["with"] / medians["without"] if medians["without"] else None,
        "silent": silent,
        "failed_runs": failed,
        "tests": 7 * COPIES,
        "returncode": 1 if failed else 0,
        "label": "plugin overhead",
    }
