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

from matrix import options, tasks  # noqa: E402
from matrix.errors import IndexUnreachable, MatrixError  # noqa: E402

nox.needs_version = ">=2026.8.10"
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # a missing interpreter is a result, never a download
nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# One id for the whole invocation; nox's parallel workers inherit it.
os.environ.setdefault("MATRIX_RUN_ID", options.new_run_id())
#: Cell exit codes that are results, not session failures: the report is still built.
RESULT_CODES = [0, IndexUnreachable.return_code]


def _cells() -> tuple[list[str], MatrixError | None]:
    """The run's cells, from the plan written once per run (see ``matrix.define.plan``).

    A broken definition must not stop the sessions that do not need it (``tests``,
    ``report``, ...): it becomes one ``cell(plan-error)`` session that says what is wrong.
    When this invocation asks for the matrix or its cells, it ends here instead, with the
    definition's own exit code (nox could not carry it from a session).
    """
    try:
        return [cell.id for cell in tasks.load_plan(options.read()).cells], None
    except MatrixError as exc:
        if _asks_for_cells(sys.argv[1:]):
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(exc.return_code)
        return ["plan-error"], exc


def _asks_for_cells(argv: list[str]) -> bool:
    """Whether nox's command line selects the matrix, a cell or the ``cells`` tag."""
    picked, selecting = [], False
    for arg in argv:
        if arg == "--":
            break
        name, _, value = arg.partition("=")
        if name in ("-s", "-e", "--session", "--sessions", "-t", "--tags", "-k", "--keywords"):
            selecting = True
            picked += [value] if value else []
        elif arg.startswith("-"):
            selecting = False
        elif selecting:
            picked.append(arg)
    return any(p.startswith(("matrix", "cell")) or p == "cells" for p in picked)


CELLS, PLAN_ERROR = _cells()


def _stop_on_plan_error(session: nox.Session) -> None:
    if PLAN_ERROR is not None:
        session.error(f"{PLAN_ERROR} (exit code {PLAN_ERROR.return_code} with loop-compat run)")


@nox.session(python=False, default=False, tags=["cells"], allow_parallel=True)
@nox.parametrize("cell", CELLS, ids=CELLS)
def cell(session: nox.Session, cell: str) -> None:
    """One cell: its uv env, then every scenario, each recorded as it finishes."""
    _stop_on_plan_error(session)
    session.run(
        sys.executable,
        "-m",
        "matrix",
        "cell",
        cell,
        *session.posargs,
        external=True,
        success_codes=RESULT_CODES,
    )


@nox.session(python=False, default=False, requires=["cell"])
def matrix(session: nox.Session) -> None:
    """Run every cell of the profile (see ``cell``), then print status and build the report."""
    _stop_on_plan_error(session)
    _matrix(session, "report", *session.posargs)
    _matrix(session, "status")  # last: it fails with the run's error (an unreachable index)


@nox.session(python=False, default=False)
def report(session: nox.Session) -> None:
    """Build the static site from the records in the results folder."""
    _matrix(session, "report", *session.posargs)


def _matrix(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    # The report needs pandas and plotly: uv runs it in an env of its cache, shared safely by
    # runs in parallel (a nox venv installed by two runs at once breaks), the code editable.
    session.run(
        "uv",
        "run",
        "--quiet",
        "--no-project",
        "--with-editable",
        str(ROOT),
        "python",
        "-m",
        "matrix",
        *args,
        env=env,
        external=True,
    )


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
    ``-- [path] [--installed] [--from SOURCE] [--json]`` (exit 0 good, 1 bad, 8 unknown)."""
    session.run(sys.executable, "-m", "matrix", "check", *session.posargs, external=True)


@nox.session(python=False, default=False)
def reference(session: nox.Session) -> None:
    """Remeasure the reference dataset shipped in the package: every cell of the
    ``reference`` profile, one at a time, into a results folder (``MATRIX_OUT``, default
    ``.nox/reference-results``, so that an interrupted run continues), then its records and
    provenance packed into ``matrix/reference/``. ``-- --fresh`` measures every cell again."""
    out = options.read().given("MATRIX_OUT") or str(ROOT / ".nox" / "reference-results")
    env = {"MATRIX_PROFILE": "reference", "MATRIX_OUT": out}
    # run ends with the report, which needs pandas: the package's own env, as for matrix
    _matrix(session, "list", env=env)
    _matrix(session, "run", *session.posargs, env=env)
    _matrix(session, "reference", out, env=env)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: cell overhead, a hand-written noxfile, parallel cells, the site, an
    incremental run against a fresh one, explain on the reported combination.

    Writes ``reports/bench.json`` and prints a table (about 20 minutes on 2 cores);
    ``-- --reps 1`` for a quick check, ``-- --only overhead naive parallel site`` for some.
    """
    session.install("-e", ".[test]")
    session.run("python", "bench/bench.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check, with the rules written in pyproject.toml."""
    session.install("ruff>=0.15")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite: fast unit tests and the integration tests (real envs, real Chromium)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
