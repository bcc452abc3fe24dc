"""Explain: the smallest change that makes a failing combination pass, with its evidence.

``python -m matrix explain python=3.13 pytest=8.4.2 pytest-asyncio=1.3.0
pytest-playwright=0.7.1 playwright=1.56.0`` measures the combination (or finds it
recorded), then tries candidate changes smallest first, across every kind:

- another release of one pinned package: the newest patch of its minor, the newest patch
  of the next and of the previous minor, its newest release; a neighbouring Python minor;
  no coverage (pytest-cov left out);
- the other Playwright plugin (pytest-playwright <-> pytest-playwright-asyncio), with the
  oldest pytest-asyncio at or above the current one that it allows, when it needs one;
  no plugin at all (Playwright's async API in the suite's own fixtures);
- a scenario change: the e2e tests run last or in their own pytest process (read from the
  same cells: ``e2e-last`` and ``isolated`` are measured with every cell);

then pairs of changes that each made some scenario pass, and a code change paired with a
release change that fixed what the code change alone did not.

A *fix* is a cell where every scenario passes (default scenarios: control, e2e-first,
e2e-first-cov when pytest-cov is pinned, e2e-last, isolated). A fix *needs code changes*
when it changes the Playwright API the browser tests use (another plugin, or none); it is
printed with what it needs and ranks after every fix that needs none. A *workaround* is a
cell where the control and e2e-last or isolated pass but e2e-first does not: it works only
if the e2e tests run last or in their own process. A workaround is listed only when no
listed result needs a subset of its changes.

The search stops when it knows: recorded cells are read first (no run when the records
decide), changes are taken by size, and it ends as soon as the smallest fix with no code
change is measured and every strictly smaller candidate is ruled out. A candidate is ruled
out by declared metadata, by its own records, or by the mechanism: with the sync plugin
an ``e2e-first`` loop conflict (``bug``) comes from Playwright's sync API leaving its loop
marked running for the session (every Playwright and pytest-playwright release), so no
change that keeps the sync plugin beside pytest-asyncio can make e2e-first pass; such a
change is run only while it could still be the smallest workaround. A code change already
shown to fix is not tried again with more changes. At most ``--max-cells`` new cells are
run. Findings are appended to ``<results>/explain.jsonl`` (see
:func:`matrix.search.explain_report.finding_json`), which ``whence`` and the site read.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Iterable, Mapping, Sequence

from packaging.version import Version

from matrix import log
from matrix.define import releases, scenarios, selection
from matrix.define.cell import ASYNC_PLUGIN, DISTRIBUTIONS, PLUGINS, SYNC_PLUGIN, Cell
from matrix.define.cell import plugin_of as cell_plugin
from matrix.errors import ConfigError
from matrix.measure import runner
from matrix.results import findings
from matrix.results.record import Outcome
from matrix.search import trials
from matrix.search.explain_report import finding_json, report
from matrix.search.explanation import (
    DEFAULT_SCENARIOS,
    MECHANISM,
    Candidate,
    Explanation,
    Step,
    Trial,
    sync_conflict,
)

HELP = "search for the smallest change that makes a failing combination pass"
#: What ``loop-compat explain --help`` says (the docstring above is for developers).
USAGE = """\
Search for the smallest change that makes a failing combination pass.

  loop-compat explain python=3.13 pytest=8.4.2 pytest-asyncio=1.3.0 \\
      pytest-playwright=0.7.1 playwright=1.56.0

The combination is measured (or found recorded), then changes are tried smallest first:
another release of one pinned package, a neighbouring Python, no coverage, the other
Playwright plugin or none, running the e2e tests last or in their own process; then
pairs of changes that each helped.

It prints:
  - fixes with no code change (every scenario passes), smallest first;
  - fixes that need code changes (another Playwright API), with what they need;
  - workarounds (the suite passes only if its e2e tests run last or in their own
    process);
each with its evidence and the command that reproduces it, then what else was
considered and why the search stopped.

Recorded cells are read first, and the search stops as soon as the smallest fix is
known; at most --max-cells new cells are run. The findings are appended to
<results>/explain.jsonl, which whence and the report read.
"""
FINDINGS = findings.FILES[findings.EXPLAIN]
#: Within one size, which axes are tried first.
ORDER = {
    "swap": 0,
    "pytest-asyncio": 1,
    "pytest": 2,
    "no-cov": 3,
    "plugin": 4,
    "playwright": 5,
    "pytest-cov": 6,
    "coverage": 7,
    "python": 8,
    "native": 9,
}
MAX_NEIGHBOUR = 3  # recorded cells this many axes away still count as candidates
MAX_SIZE = 3  # no candidate of more changes is built


# --------------------------------------------------------------------------- the changes


def plugin_words(cell: Cell) -> str | None:
    """``pytest-playwright 0.7.1``, or None for a cell without a Playwright plugin."""
    plugin, version = cell_plugin(cell.pin_map)
    return f"{plugin} {version}" if version else None


def steps_between(start: Cell, cell: Cell) -> tuple[Step, ...]:
    """The axes on which ``cell`` differs from ``start`` (the two plugins are one axis)."""
    steps = []
    if start.python != cell.python:
        steps.append(Step(axis="python", old=start.python, new=cell.python))
    if plugin_words(start) != plugin_words(cell):
        steps.append(Step(axis="plugin", old=plugin_words(start), new=plugin_words(cell)))
    old, new = start.pin_map, cell.pin_map
    for dist in DISTRIBUTIONS:
        if dist not in PLUGINS and old.get(dist) != new.get(dist):
            steps.append(Step(axis=dist, old=old.get(dist), new=new.get(dist)))
    return tuple(steps)


def single_changes(start: Cell, snapshot: releases.Snapshot) -> list[Candidate]:
    """Every change of one axis worth trying, in the order to try them."""
    pins, found = start.pin_map, []
    for dist, version in pins.items():
        kind = "plugin" if dist in PLUGINS else dist
        for ring, new in nearby(dist, version, snapshot):
            found.append(_candidate(start, start.python, {**pins, dist: new}, ring, ORDER[kind]))
    found += _plugin_changes(start, snapshot)
    if "pytest-cov" in pins:
        rest = {d: v for d, v in pins.items() if d not in ("pytest-cov", "coverage")}
        found.append(_candidate(start, start.python, rest, 1, ORDER["no-cov"]))
    for python in _neighbour_pythons(start.python):
        found.append(_candidate(start, python, pins, 3, ORDER["python"]))
    unique: dict[str, Candidate] = {}
    for c in found:
        unique.setdefault(c.cell.id, c)  # the first (eagerest) of equal cells wins
    return sorted(unique.values(), key=lambda c: c.rank)  # stable: nearest first


def _candidate(
    start: Cell, python: str, pins: Mapping[str, str], ring: int, order: int
) -> Candidate:
    cell = Cell.make(python, dict(pins), suite=start.suite)
    return Candidate(cell=cell, steps=steps_between(start, cell), ring=ring, order=order)


def nearby(dist: str, version: str, snapshot: releases.Snapshot) -> list[tuple[int, str]]:
    """(ring, release) near ``version``: newest patch of its minor, of the next and of the
    previous minor (ring 1), and the newest release (ring 2)."""
    newest: dict[tuple[int, ...], str] = {}
    for r in snapshot.releases(dist):
        if not (r.parsed.is_prerelease or r.parsed.is_devrelease):
            newest[r.parsed.release[:2]] = r.version  # oldest first: the last one wins
    if not newest:
        return []
    current = Version(version)
    minors = sorted(newest)
    here = current.release[:2]
    newer = [m for m in minors if m > here]
    older = [m for m in minors if m < here]
    picks = [
        (1, newest.get(here)),
        (1, newest[newer[0]] if newer else None),
        (1, newest[older[-1]] if older else None),
        (2, newest[minors[-1]]),
    ]
    seen, out = {version}, []
    for ring, pick in picks:
        if pick and pick not in seen and Version(pick) != current:
            seen.add(pick)
            out.append((ring, pick))
    return out


def _plugin_changes(start: Cell, snapshot: releases.Snapshot) -> list[Candidate]:
    """The other plugin (with a pytest-asyncio it allows), and no plugin."""
    pins = start.pin_map
    mine = cell_plugin(pins)[0]
    if mine not in PLUGINS:
        return []
    other = ASYNC_PLUGIN if mine == SYNC_PLUGIN else SYNC_PLUGIN
    rest = {d: v for d, v in pins.items() if d != mine}
    swapped = {**rest, other: _same_or_nearest(other, pins[mine], snapshot)}
    swapped = _allowed_asyncio(start.python, swapped, snapshot) or swapped
    found = [_candidate(start, start.python, swapped, 1, ORDER["swap"])]
    if "playwright" in pins:  # without Playwright there would be no e2e test left to judge
        found.append(_candidate(start, start.python, rest, 2, ORDER["native"]))
    return found


def _same_or_nearest(dist: str, version: str, snapshot: releases.Snapshot) -> str:
    finals = [
        r for r in snapshot.releases(dist) if not (r.parsed.is_prerelease or r.parsed.is_devrelease)
    ]
    if not finals or snapshot.release(dist, version):
        return version
    above = [r for r in finals if r.parsed >= Version(version)]
    return (above[0] if above else finals[-1]).version


def _allowed_asyncio(
    python: str, pins: dict[str, str], snapshot: releases.Snapshot
) -> dict[str, str] | None:
    """``pins`` with the oldest pytest-asyncio at or above the pinned one that makes them
    possible, when the pinned one does not; None when no change is needed or none helps."""
    if "pytest-asyncio" not in pins or not selection.declared_incompatible(python, pins, snapshot):
        return None
    current = Version(pins["pytest-asyncio"])
    for release in snapshot.releases("pytest-asyncio"):
        if release.parsed > current and not (
            release.parsed.is_prerelease or release.parsed.is_devrelease
        ):
            trial = {**pins, "pytest-asyncio": release.version}
            if not selection.declared_incompatible(python, trial, snapshot):
                return trial
    return None


def _neighbour_pythons(python: str) -> list[str]:
    known = releases.python_versions()
    if python not in known:
        return []
    at = known.index(python)
    return [known[i] for i in (at - 1, at + 1) if 0 <= i < len(known)]


def apply(start: Cell, steps: Iterable[Step]) -> Cell:
    """The cell that ``steps`` make of ``start``."""
    python, pins = start.python, start.pin_map
    for step in steps:
        if step.axis == "python":
            python = step.new or python
        elif step.axis == "plugin":
            pins = {d: v for d, v in pins.items() if d not in PLUGINS}
            if step.new:
                name, version = step.new.split(" ")
                pins[name] = version
        elif step.new is None:
            pins.pop(step.axis, None)
        else:
            pins[step.axis] = step.new
    return Cell.make(python, pins, suite=start.suite)


def pair_changes(start: Cell, passing: frozenset[str], singles: Sequence[Trial]) -> list[Candidate]:
    """Pairs of measured single changes on different axes, most promising first: two that
    each made some scenario pass that fails at the start (``passing`` pass there) and
    together cover more than either alone; and a code change that is no fix yet with a
    change that fixed something it did not."""
    measured = [
        (t, _helped(t, passing))
        for t in singles
        if t.observation is not None and t.verdict not in ("unusable", "incomplete")
    ]
    pairs = []
    for (a, ha), (b, hb) in itertools.combinations(measured, 2):
        if {s.axis for s in a.candidate.steps} & {s.axis for s in b.candidate.steps}:
            continue
        code = [t for t in (a, b) if t.candidate.needs and t.verdict != "fix"]
        if not (ha and hb and len(ha | hb) > max(len(ha), len(hb))) and not (
            len(code) == 1 and (hb if code[0] is a else ha) - (ha if code[0] is a else hb)
        ):
            continue
        cell = apply(start, a.candidate.steps + b.candidate.steps)
        pairs.append(
            (
                len(ha | hb),
                Candidate(
                    cell=cell,
                    steps=steps_between(start, cell),
                    ring=a.candidate.ring + b.candidate.ring,
                    order=a.candidate.order + b.candidate.order,
                ),
            )
        )
    pairs.sort(key=lambda p: (p[1].rank[:2], -p[0], p[1].rank[2:]))
    return [c for _, c in pairs if c.size <= MAX_SIZE]


def _helped(trial: Trial, passing: frozenset[str]) -> frozenset[str]:
    return frozenset(
        r.scenario
        for r in trial.observation.records
        if r.outcome is Outcome.PASS and r.scenario not in passing
    )


# --------------------------------------------------------------------------- the search


@dataclasses.dataclass(kw_only=True)
class _Search:
    start: Trial
    bench: trials.Bench
    snapshot: releases.Snapshot
    budget: int
    trials: list[Trial] = dataclasses.field(default_factory=list)
    stopped: str = ""

    def known(self, verdict: str) -> list[Trial]:
        return [t for t in (self.start, *self.trials) if t.verdict == verdict]

    def look_up(self, candidates: Iterable[Candidate]) -> list[Candidate]:
        """Every candidate that declared metadata or its own records decide becomes a trial
        (free); the others are returned, to be run or ruled out."""
        known = {t.candidate.cell.id for t in self.trials} | {self.start.candidate.cell.id}
        rest = []
        for c in {c.cell.id: c for c in candidates if c.cell.id not in known}.values():
            reason = selection.declared_incompatible(c.cell.python, c.cell.pin_map, self.snapshot)
            obs = None if reason else self.bench.lookup(c.cell)
            if reason or obs is not None:
                self.trials.append(
                    Trial(
                        candidate=c,
                        observation=obs,
                        reason=reason,
                        source="ruled out" if reason else "recorded",
                    )
                )
            else:
                rest.append(c)
        return rest

    def search(self, singles: list[Candidate]) -> None:
        """Tiers of candidates by size, each resolved before the next; stop as soon as a fix
        with no code change is known and every smaller candidate is resolved."""
        pending = self.look_up(singles)
        ids = {c.cell.id for c in singles}
        for size in range(1, MAX_SIZE + 1):
            if size > 1:
                measured = [t for t in self.trials if t.candidate.cell.id in ids]
                pending += self.look_up(
                    pair_changes(self.start.candidate.cell, self._passing(), measured)
                )
            for c in sorted((c for c in pending if c.size == size), key=lambda c: c.rank):
                self.trials.append(self.resolve(c, size))
            pending = [c for c in pending if c.size > size]
        if not self.stopped:
            self.stopped = "every candidate is resolved"

    def resolve(self, c: Candidate, size: int) -> Trial:
        """Run ``c``, or say why it need not (or could not) be run."""
        plain = [t for t in self.known("fix") if t.candidate.needs is None]
        if plain and min(t.candidate.size for t in plain) <= size:
            self.stopped = (
                f"a fix with no code change ({plain[0].candidate.text}) is measured "
                "and every smaller candidate is ruled out"
            )
            return Trial(
                candidate=c,
                source="not needed",
                reason="a fix with no code change and no more changes is known",
            )
        why = self.why_not(c)
        if why is not None:
            return Trial(candidate=c, source=why[0], reason=why[1])
        obs = self.bench.run(c.cell)
        return Trial(candidate=c, observation=obs, source="ran" if obs.ran else "recorded")

    def why_not(self, c: Candidate) -> tuple[str, str] | None:
        """(source, reason) when ``c`` cannot tell anything new; None when it must run."""
        if self.mechanism(c):
            way = [t for t in self.known("workaround") if t.candidate.size <= c.size]
            if way:
                return "ruled out", (
                    f"{MECHANISM}; and a workaround of no more changes is "
                    f"known ({way[0].candidate.text})"
                )
        if c.needs is not None:
            done = [
                t
                for t in self.known("fix")
                if t.candidate.needs == c.needs and t.candidate.size < c.size
            ]
            if done:
                return (
                    "not needed",
                    f"the same code change fixes it with fewer changes ({done[0].candidate.text})",
                )
        if self.bench.ran >= self.budget:
            self.stopped = self.stopped or f"the budget of {self.budget} new cells is spent"
            return "not tried", "the budget of new cells is spent"
        return None

    def mechanism(self, c: Candidate) -> bool:
        """True when ``c`` keeps the sync plugin and the start's e2e-first is a loop conflict."""
        return sync_conflict(self.start) and keeps_sync(c.cell)

    def _passing(self) -> frozenset[str]:
        obs = self.start.observation
        return frozenset(
            r.scenario for r in (obs.records if obs else ()) if r.outcome is Outcome.PASS
        )

    def neighbours(self) -> list[Trial]:
        """Recorded cells a few axes from the start that are fixes or workarounds."""
        known = {t.candidate.cell.id for t in self.trials} | {self.start.candidate.cell.id}
        found = []
        for cell in self.bench.recorded_cells():
            steps = steps_between(self.start.candidate.cell, cell)
            if cell.id in known or not 0 < len(steps) <= MAX_NEIGHBOUR:
                continue
            obs = self.bench.lookup(cell, partial=True)
            trial = Trial(
                candidate=Candidate(cell=cell, steps=steps, ring=3, order=len(ORDER)),
                observation=obs,
                source="recorded",
            )
            if obs is not None and trial.verdict in ("fix", "workaround"):
                found.append(trial)
        self.trials += found
        return found


def keeps_sync(cell: Cell) -> bool:
    """The cell still has the sync plugin (beside the suite's pytest-asyncio tests)."""
    return SYNC_PLUGIN in cell.pin_map


def explain(
    start: Cell, bench: trials.Bench, snapshot: releases.Snapshot, *, budget: int
) -> Explanation:
    """Measure ``start`` (records first), then resolve candidates smallest first until the
    smallest fix with no code change is known, then add recorded neighbours."""
    origin = bench.lookup(start)
    if origin is None and bench.ran < budget:
        origin = bench.run(start)
    origin = origin or bench.lookup(start, partial=True)
    first = Trial(
        candidate=Candidate(cell=start, steps=()),
        observation=origin,
        source="not tried" if origin is None else ("ran" if origin.ran else "recorded"),
    )
    state = _Search(start=first, bench=bench, snapshot=snapshot, budget=budget)
    if first.verdict == "fix":
        state.stopped = "every scenario passes already"
    elif origin is not None:
        state.search(single_changes(start, snapshot))
        state.neighbours()
    return Explanation(
        start=first,
        trials=tuple(state.trials),
        budget=budget,
        ran=bench.ran,
        stopped=state.stopped or "the start could not be measured",
    )


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``explain`` command's arguments."""
    parser.add_argument(
        "target",
        nargs="+",
        metavar="CELL_OR_PIN",
        help="a cell id (a suite's too), or pins like python=3.13 pytest-asyncio=0.23.0",
    )
    parser.add_argument(
        "--max-cells",
        type=int,
        default=12,
        help="at most this many new cells are run (default %(default)s)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=scenarios.NAMES,
        help="scenarios to judge by (default: control, e2e-first, e2e-first-cov, "
        "e2e-last, isolated)",
    )
    trials.run_arguments(parser)


def run(args: argparse.Namespace, base: runner.RunOptions) -> int:
    """``python -m matrix explain``: search, print the ranked changes, append the findings.
    ``base`` are the CLI's run options (results folder, run id, snapshot time, suite)."""
    started, began = time.monotonic(), trials.now()
    python, pins = trials.parse_target(args.target, suite=base.suite.key if base.suite else "")
    if args.max_cells < 0:
        raise ConfigError(
            f"--max-cells {args.max_cells} is negative; give 0 to use recorded cells only."
        )
    snapshot = releases.load(base.settings.releases)
    opts = trials.searched_options(base)
    bench = trials.Bench(
        opts, tuple(args.scenario or DEFAULT_SCENARIOS), fresh=args.fresh, variant=args.variant
    )
    bench.check(Cell.make(python, pins))
    start = bench.own(Cell.make(python, pins))  # on the user's suite when one is in force
    log.answer(
        f"explain {trials.describe_pins(python, pins)}"
        f"{' on the suite ' + opts.suite.name if opts.suite else ''}\n"
        f"scenarios {', '.join(bench.wanted)}; at most {args.max_cells} new cells"
    )
    result = explain(start, bench, snapshot, budget=args.max_cells)
    took = time.monotonic() - started
    log.answer(report(result, took=took))
    findings.append_finding(
        opts.out / FINDINGS,
        finding_json(result, bench.wanted, run_id=opts.run_id, started_at=began, took=took),
    )
    log.info(f"findings appended to {opts.out / FINDINGS}")
    return 0
