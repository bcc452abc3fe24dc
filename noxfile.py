#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2026.8.10"]
# ///
"""Thin nox sessions over ``matrix``: one ``cell(...)`` session per planned cell.

``nox -s matrix`` runs every cell of the profile in force (``MATRIX_PROFILE``, default
``quick``; ``MATRIX_CONFIG`` for another definition file), then builds the report.
``nox -s 'cell(<id>)'`` reruns one cell; ``nox -l -t cells --json`` lists them for CI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from matrix.__main__ import load_plan, new_run_id  # noqa: E402
from matrix.errors import MatrixError  # noqa: E402

nox.needs_version = ">=2026.8.10"
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # a missing interpreter is a result, never a download
nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# One id for the whole invocation; nox's parallel workers inherit it.
os.environ.setdefault("MATRIX_RUN_ID", new_run_id())


def _cells() -> list[str]:
    try:
        return [cell.id for cell in load_plan().cells]
    except MatrixError as exc:
        # Bad input is one sentence and its own exit code, before any env is built.
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.return_code)


CELLS = _cells()


@nox.session(python=False, default=False, tags=["cells"], allow_parallel=True)
@nox.parametrize("cell", CELLS, ids=CELLS)
def cell(session: nox.Session, cell: str) -> None:
    """One cell: its uv env, then every scenario, each recorded as it finishes."""
    session.run(sys.executable, "-m", "matrix", "cell", cell, *session.posargs, external=True)


@nox.session(default=False, requires=["cell"])
def matrix(session: nox.Session) -> None:
    """Run every cell of the profile (see ``cell``), then build the report."""
    _report(session)


@nox.session(default=False)
def report(session: nox.Session) -> None:
    """Build the static site from the records in the results folder."""
    _report(session)


def _report(session: nox.Session) -> None:
    session.install(".")
    session.run("python", "-m", "matrix", "status")
    session.run("python", "-m", "matrix", "report", *session.posargs)


@nox.session(python=False, default=False)
def releases(session: nox.Session) -> None:
    """Refresh the releases snapshot (``matrix/releases.json``) from the package index."""
    session.run(sys.executable, "-m", "matrix", "releases", *session.posargs, external=True)


@nox.session(python=False, default=False)
def bisect(session: nox.Session) -> None:
    """Find where along one axis a cell's outcome or signatures change: ``-- <pins> --axis D``."""
    session.run(sys.executable, "-m", "matrix", "bisect", *session.posargs, external=True)


@nox.session(python=False, default=False)
def explain(session: nox.Session) -> None:
    """Search for the smallest change that makes a failing combination pass: ``-- <pins>``."""
    session.run(sys.executable, "-m", "matrix", "explain", *session.posargs, external=True)


@nox.session(python=False, default=False)
def check(session: nox.Session) -> None:
    """Where a project's pins stand, from measured records, without building anything:
    ``-- [path] [--installed] [--from SOURCE] [--json]`` (exit 0 good, 1 bad, 7 unknown)."""
    session.run(sys.executable, "-m", "matrix", "check", *session.posargs, external=True)


@nox.session(python=False, default=False)
def reference(session: nox.Session) -> None:
    """Remeasure the reference dataset shipped in the package: every cell of the
    ``reference`` profile, one at a time, into a results folder (``MATRIX_OUT``, default
    ``.nox/reference-results``, so that an interrupted run continues), then its records and
    provenance packed into ``matrix/reference/``. ``-- --fresh`` measures every cell again."""
    out = os.environ.get("MATRIX_OUT") or str(ROOT / ".nox" / "reference-results")
    env = {"MATRIX_PROFILE": "reference", "MATRIX_OUT": out}
    session.run(sys.executable, "-m", "matrix", "list", env=env, external=True)
    session.run(sys.executable, "-m", "matrix", "run", *session.posargs, env=env, external=True)
    session.run(sys.executable, "-m", "matrix", "reference", out, env=env, external=True)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: cell overhead, a hand-written noxfile, parallel cells, the site.

    Writes ``reports/bench.json`` and prints a table (about 20 minutes on 2 cores);
    ``-- --reps 1`` for a quick check, ``-- --only overhead naive parallel site`` for some.
    """
    session.install("-e", ".[test]")
    session.run("python", "bench/bench.py", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite: fast unit tests and the integration tests (real envs, real Chromium)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
