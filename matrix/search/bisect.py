"""Bisect: the ``bisect`` command, which finds the releases along one axis where a
combination's behaviour changes.

``python -m matrix bisect python=3.13 pytest-playwright=0.7.1 playwright=1.56.0 --axis
pytest-asyncio --from 0.21.2 --to 1.5.0`` reads the axis's releases and searches them
(:mod:`matrix.search.bisection`), measuring each cell through the shared bench
(:mod:`matrix.search.trials`: recorded results are reused, new cells are recorded like any
other), prints the report and appends the finding (:mod:`matrix.search.bisect_report`) to
``<results>/bisect.jsonl``.
"""

from __future__ import annotations

import argparse
import time

from matrix import log
from matrix.define import releases, scenarios
from matrix.measure import runner
from matrix.results import findings
from matrix.search import trials
from matrix.search.bisect_report import finding_json, header, report
from matrix.search.bisection import axis_releases, cell_at, hint_at, search

HELP = "find the releases along one axis where a cell's outcome or signatures change"
#: What ``loop-compat bisect --help`` says (the module's docstrings are for developers).
USAGE = """\
Find the releases along one axis where a combination's behaviour changes.

  loop-compat bisect python=3.13 pytest-playwright=0.7.1 playwright=1.56.0 \\
      --axis pytest-asyncio --from 0.21.2 --to 1.5.0

The axis's releases come from the releases snapshot (every final release, or with
--releases minors the newest patch of each minor); those the other pins rule out are
left out, and the rest are binary-searched for every release where a scenario's outcome
or its set of failure signatures changes (default scenarios: control and e2e-first).
Pins left out are the resolver's to pick.

Each change point says what changed, for example "e2e-first signature set {A} -> {B}".
When two measured releases agree, the releases between them are assumed unchanged and
counted as such; releases that cannot be measured are stepped around, and said so.

Recorded results are reused; new cells are measured and recorded like any other. The
findings are appended to <results>/bisect.jsonl, which whence and the report read.
"""
FINDINGS = findings.FILES[findings.BISECT]
DEFAULT_SCENARIOS = trials.BISECT_SCENARIOS


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``bisect`` command's arguments."""
    parser.add_argument(
        "target",
        nargs="+",
        metavar="CELL_OR_PIN",
        help="a cell id, or pins like python=3.13 pytest-playwright=0.7.1 "
        "(leave a distribution out to let the resolver pick it)",
    )
    parser.add_argument(
        "--axis", required=True, help="the distribution (or python) to bisect along"
    )
    parser.add_argument(
        "--from",
        "--good",
        dest="start",
        metavar="V",
        help="the release the search starts from (default: the oldest that fits)",
    )
    parser.add_argument(
        "--to",
        "--bad",
        dest="end",
        metavar="V",
        help="the release the search ends at (default: the newest that fits)",
    )
    parser.add_argument(
        "--releases",
        choices=("all", "minors"),
        default="all",
        help="every final release (default) or the newest patch of each minor",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=scenarios.NAMES,
        help="scenarios whose results make the key (default: control, e2e-first)",
    )
    parser.add_argument(
        "--compare",
        choices=("set", "primary"),
        default="set",
        help="compare each scenario's set of signatures (default) or its first one",
    )
    parser.add_argument(
        "--verify-gaps",
        action="store_true",
        help="measure the middle of every stretch whose ends agree, once",
    )
    trials.run_arguments(parser)


def run(args: argparse.Namespace, base: runner.RunOptions) -> int:
    """``python -m matrix bisect``: search, print, and append the findings. ``base`` are the
    CLI's run options (results folder, run id, snapshot time, suite in force)."""
    started, began = time.monotonic(), trials.now()
    suite = base.suite.key if base.suite else ""
    python, pins = trials.parse_target(args.target, need_python=args.axis != "python", suite=suite)
    python = "" if args.axis == "python" else python  # the axis gives each cell its Python
    snapshot = releases.load(base.settings.releases)
    axis = axis_releases(
        args.axis, python, pins, snapshot, start=args.start, end=args.end, every=args.releases
    )
    opts = trials.searched_options(base)
    bench = trials.Bench(
        opts, tuple(args.scenario or DEFAULT_SCENARIOS), fresh=args.fresh, variant=args.variant
    )
    others = {d: v for d, v in pins.items() if d != axis.name}
    bench.check(cell_at(axis.name, axis.versions[-1], python, others))
    log.answer(header(axis, python, others, bench.wanted, args.compare, snapshot))
    found = search(
        axis.versions,
        lambda v: bench.measure(cell_at(axis.name, v, python, others)),
        args.compare,
        hint=lambda v: hint_at(axis.name, v, python, others, snapshot),
        verify_gaps=args.verify_gaps,
    )
    took = time.monotonic() - started
    log.answer(report(found, axis, args.compare, ran=bench.ran, took=took))
    finding = finding_json(
        found,
        axis,
        python,
        others,
        bench.wanted,
        args.compare,
        run_id=opts.run_id,
        started_at=began,
        took=took,
        ran=bench.ran,
    )
    findings.append_finding(opts.out / FINDINGS, finding)
    log.info(f"findings appended to {opts.out / FINDINGS}")
    return 0
