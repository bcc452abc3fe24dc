"""Explain: the smallest change that makes a failing combination pass, with its evidence.

``python -m matrix explain python=3.13 pytest=8.4.2 pytest-asyncio=0.23.0
pytest-playwright=0.7.1 playwright=1.49.1 pytest-cov=7.0.0`` measures the combination
(or finds it recorded), then tries changes of one axis at a time:

- a nearby release of one pinned package: the newest patch of its minor, the newest patch
  of the next and of the previous minor (ring 1), its newest release (ring 2);
- the other Playwright plugin (pytest-playwright <-> pytest-playwright-asyncio), with the
  oldest pytest-asyncio at or above the current one that it allows, when it needs one;
  no plugin at all (Playwright's async API in the suite's own fixtures, ring 2);
- no coverage (pytest-cov left out);
- the neighbouring Python minors (ring 3);

then pairs of single changes that each made some scenario pass on its own. Changes that
declared metadata rules out are never run. Recorded cells are used before any new one is
run, recorded cells near the combination count as candidates too, and at most
``--max-cells`` new cells are run; no change larger than the smallest fix found is run.

A *fix* is a cell where every scenario passes (default scenarios: control, e2e-first,
e2e-first-cov when pytest-cov is pinned, e2e-last, isolated). A *workaround* is a cell
where the control and e2e-last or isolated pass but e2e-first does not: it works only if
the suite's e2e tests run last or in their own pytest process. Both are ranked by the
number of axes changed, then by how far the releases move. Findings are appended to
``<results>/explain.jsonl`` (see :func:`finding_json`), which ``whence`` and the site read.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Iterable, Mapping, Sequence

from packaging.version import Version

from matrix import log
from matrix.search import bisect
from matrix.define import releases, selection
from matrix.measure import scenarios
from matrix.define.cell import ASYNC_PLUGIN, DISTRIBUTIONS, SYNC_PLUGIN, Cell
from matrix.errors import ConfigError
from matrix.results.record import Outcome

HELP = "search for the smallest change that makes a failing combination pass"
FINDINGS = "explain.jsonl"
SCHEMA = 1
DEFAULT_SCENARIOS = ("control", "e2e-first", "e2e-first-cov", "e2e-last", "isolated")
#: Scenarios that pass when the suite changes how it runs, and how (run the e2e tests ...).
WAYS = {"e2e-last": "last", "e2e-last-cov": "last", "isolated": "in a separate pytest process"}
PLUGINS = (SYNC_PLUGIN, ASYNC_PLUGIN)
#: Which axes are tried first when the budget cannot cover them all.
ORDER = {"swap": 0, "pytest-asyncio": 1, "pytest": 2, "no-cov": 3, "plugin": 4, "playwright": 5,
         "pytest-cov": 6, "coverage": 7, "python": 8, "native": 9}
MAX_NEIGHBOUR = 3  # recorded cells this many axes away still count as candidates


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """One axis changed: ``old`` -> ``new`` (None: not in the cell)."""

    axis: str  # a distribution, "plugin" or "python"
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        if self.axis == "plugin" and self.new is None:
            return f"drop {self.old} (Playwright's async API in the suite's own fixtures)"
        if self.new is None:
            return f"drop {self.axis if self.axis != 'plugin' else ''} {self.old}".replace("  ", " ")
        if self.old is None:
            return f"add {self.axis if self.axis != 'plugin' else ''} {self.new}".replace("  ", " ")
        if self.axis == "plugin":
            return f"{self.old} -> {self.new}"
        return f"{'Python' if self.axis == 'python' else self.axis} {self.old} -> {self.new}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Candidate:
    """A cell to try, the steps from the start that make it, and how eagerly to try it."""

    cell: Cell
    steps: tuple[Step, ...]
    ring: int = 1
    order: int = 0

    @property
    def size(self) -> int:
        return len(self.steps)

    @property
    def text(self) -> str:
        return "; ".join(s.text for s in self.steps) or "no change"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trial:
    """A candidate and what it showed (or why it was not measured)."""

    candidate: Candidate
    observation: bisect.Observation | None = None
    source: str = "not tried"  # "recorded", "ran", "ruled out", "not tried"
    reason: str | None = None  # why it was ruled out

    @property
    def verdict(self) -> str:
        """``fix``, ``workaround``, ``fails``, ``unusable``, ``incomplete`` or the source."""
        return judge(self.observation) if self.observation is not None else self.source

    @property
    def ways(self) -> tuple[str, ...]:
        """The workaround scenarios that pass."""
        obs = self.observation
        return tuple(s for s in WAYS if obs and obs.record(s) and obs.record(s).outcome is Outcome.PASS)


def judge(obs: bisect.Observation) -> str:
    """What a measured cell says: every scenario passes (``fix``), only with the e2e tests
    last or apart (``workaround``), ``fails``, ``unusable`` or ``incomplete`` (no e2e-first)."""
    if obs.unusable:
        return "unusable"
    outcomes = {r.scenario: r.outcome for r in obs.records}
    if "control" not in outcomes or ("e2e-first" not in outcomes and obs.cell.probe != "control"):
        return "incomplete"
    if all(o is Outcome.PASS for o in outcomes.values()):
        return "fix"
    if outcomes["control"] is Outcome.PASS and any(outcomes.get(s) is Outcome.PASS for s in WAYS):
        return "workaround"
    return "fails"


# --------------------------------------------------------------------------- the changes


def plugin_of(cell: Cell) -> str | None:
    """``pytest-playwright 0.7.1``, or None for a cell without a Playwright plugin."""
    pins = cell.pin_map
    return next((f"{p} {pins[p]}" for p in PLUGINS if p in pins), None)


def steps_between(start: Cell, cell: Cell) -> tuple[Step, ...]:
    """The axes on which ``cell`` differs from ``start`` (the two plugins are one axis)."""
    steps = []
    if start.python != cell.python:
        steps.append(Step(axis="python", old=start.python, new=cell.python))
    if plugin_of(start) != plugin_of(cell):
        steps.append(Step(axis="plugin", old=plugin_of(start), new=plugin_of(cell)))
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
    return sorted(unique.values(), key=lambda c: (c.ring, c.order))  # stable: nearest first


def _candidate(start: Cell, python: str, pins: Mapping[str, str], ring: int, order: int) -> Candidate:
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
    picks = [(1, newest.get(here)), (1, newest[newer[0]] if newer else None),
             (1, newest[older[-1]] if older else None), (2, newest[minors[-1]])]
    seen, out = {version}, []
    for ring, pick in picks:
        if pick and pick not in seen and Version(pick) != current:
            seen.add(pick)
            out.append((ring, pick))
    return out


def _plugin_changes(start: Cell, snapshot: releases.Snapshot) -> list[Candidate]:
    """The other plugin (with a pytest-asyncio it allows), and no plugin."""
    pins = start.pin_map
    mine = next((p for p in PLUGINS if p in pins), None)
    if mine is None:
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
    finals = [r for r in snapshot.releases(dist) if not (r.parsed.is_prerelease or r.parsed.is_devrelease)]
    if not finals or snapshot.release(dist, version):
        return version
    above = [r for r in finals if r.parsed >= Version(version)]
    return (above[0] if above else finals[-1]).version


def _allowed_asyncio(python: str, pins: dict[str, str], snapshot: releases.Snapshot
                     ) -> dict[str, str] | None:
    """``pins`` with the oldest pytest-asyncio at or above the pinned one that makes them
    possible, when the pinned one does not; None when no change is needed or none helps."""
    if "pytest-asyncio" not in pins or not selection.declared_incompatible(python, pins, snapshot):
        return None
    current = Version(pins["pytest-asyncio"])
    for release in snapshot.releases("pytest-asyncio"):
        if release.parsed > current and not (release.parsed.is_prerelease or release.parsed.is_devrelease):
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
    """Pairs of single changes on different axes that each made some scenario pass that
    fails at the start (``passing`` are those that pass there) and together cover more
    than either alone, most promising first."""
    helpful = [(t, _helped(t, passing)) for t in singles
               if t.observation is not None and t.verdict not in ("unusable", "incomplete")]
    helpful = [(t, h) for t, h in helpful if h]
    pairs = []
    for (a, ha), (b, hb) in itertools.combinations(helpful, 2):
        if {s.axis for s in a.candidate.steps} & {s.axis for s in b.candidate.steps}:
            continue
        if len(ha | hb) <= max(len(ha), len(hb)):
            continue
        cell = apply(start, a.candidate.steps + b.candidate.steps)
        pairs.append((len(ha | hb), Candidate(
            cell=cell, steps=steps_between(start, cell), ring=a.candidate.ring + b.candidate.ring,
            order=a.candidate.order + b.candidate.order)))
    pairs.sort(key=lambda p: (-p[0], p[1].ring, p[1].order))
    return [c for _, c in pairs]


def _helped(trial: Trial, passing: frozenset[str]) -> frozenset[str]:
    return frozenset(r.scenario for r in trial.observation.records
                     if r.outcome is Outcome.PASS and r.scenario not in passing)


# --------------------------------------------------------------------------- the search


@dataclasses.dataclass(frozen=True, kw_only=True)
class Explanation:
    """The start, every candidate considered (in that order) and what the budget allowed."""

    start: Trial
    trials: tuple[Trial, ...]
    budget: int
    ran: int

    def ranked(self, verdict: str) -> list[Trial]:
        """Trials with ``verdict`` (``fix`` or ``workaround``), smallest change first."""
        found = [(n, t) for n, t in enumerate((self.start, *self.trials)) if t.verdict == verdict]
        found.sort(key=lambda p: (p[1].candidate.size, p[1].candidate.ring, p[1].candidate.order,
                                  p[0]))  # then in the order tried: nearest releases first
        return [t for _, t in found]


@dataclasses.dataclass(kw_only=True)
class _Search:
    start: Cell
    bench: bisect.Bench
    snapshot: releases.Snapshot
    budget: int
    trials: list[Trial] = dataclasses.field(default_factory=list)

    @property
    def smallest_fix(self) -> int:
        return min((t.candidate.size for t in self.trials if t.verdict == "fix"), default=10**6)

    def consider(self, candidates: Iterable[Candidate]) -> list[Trial]:
        """Recorded evidence for every candidate first (free), then new cells in order."""
        known = {t.candidate.cell.id for t in self.trials} | {self.start.id}
        todo = list({c.cell.id: c for c in candidates if c.cell.id not in known}.values())
        first, waiting = len(self.trials), []
        for c in todo:
            reason = selection.declared_incompatible(c.cell.python, c.cell.pin_map, self.snapshot)
            obs = None if reason else self.bench.lookup(c.cell)
            if reason or obs is not None:
                self.trials.append(Trial(candidate=c, observation=obs, reason=reason,
                                         source="ruled out" if reason else "recorded"))
            else:
                waiting.append(c)
        for c in waiting:
            self.trials.append(self._measure(c))
        return self.trials[first:]

    def _measure(self, c: Candidate) -> Trial:
        """Run the cell if the budget allows and no smaller fix is known; else use what is
        recorded of it (some scenarios), or leave it untried."""
        if self.bench.ran < self.budget and c.size <= self.smallest_fix:
            obs = self.bench.run(c.cell)
            return Trial(candidate=c, observation=obs, source="ran" if obs.ran else "recorded")
        partial = self.bench.lookup(c.cell, partial=True)
        return Trial(candidate=c, observation=partial,
                     source="recorded" if partial is not None else "not tried")

    def neighbours(self) -> list[Trial]:
        """Recorded cells a few axes from the start that are fixes or workarounds."""
        known = {t.candidate.cell.id for t in self.trials} | {self.start.id}
        found = []
        for cell in self.bench.recorded_cells():
            steps = steps_between(self.start, cell)
            if cell.id in known or not 0 < len(steps) <= MAX_NEIGHBOUR:
                continue
            obs = self.bench.lookup(cell, partial=True)
            trial = Trial(candidate=Candidate(cell=cell, steps=steps, ring=3, order=len(ORDER)),
                          observation=obs, source="recorded")
            if obs is not None and trial.verdict in ("fix", "workaround"):
                found.append(trial)
        self.trials += found
        return found


def explain(start: Cell, bench: bisect.Bench, snapshot: releases.Snapshot, *,
            budget: int) -> Explanation:
    """Measure ``start``, then search single changes, pairs and recorded neighbours."""
    origin = bench.lookup(start)
    if origin is None and bench.ran < budget:
        origin = bench.run(start)
    origin = origin or bench.lookup(start, partial=True)
    first = Trial(candidate=Candidate(cell=start, steps=()), observation=origin,
                  source="not tried" if origin is None else ("ran" if origin.ran else "recorded"))
    state = _Search(start=start, bench=bench, snapshot=snapshot, budget=budget)
    if first.verdict != "fix":
        singles = state.consider(single_changes(start, snapshot))
        passing = frozenset(r.scenario for r in (origin.records if origin else ())
                            if r.outcome is Outcome.PASS)
        state.consider(pair_changes(start, passing, singles))
        state.neighbours()
    return Explanation(start=first, trials=tuple(state.trials), budget=budget, ran=bench.ran)


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``explain`` command's arguments."""
    parser.add_argument("target", nargs="+", metavar="CELL_OR_PIN",
                        help="a cell id, or pins like python=3.13 pytest-asyncio=0.23.0")
    parser.add_argument("--max-cells", type=int, default=12,
                        help="at most this many new cells are run (default %(default)s)")
    parser.add_argument("--scenario", action="append", choices=scenarios.NAMES,
                        help="scenarios to judge by (default: control, e2e-first, e2e-first-cov, "
                             "e2e-last, isolated)")
    bisect.run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """``python -m matrix explain``: search, print the ranked changes, append the findings."""
    started, began = time.monotonic(), bisect.now()
    python, pins = bisect.parse_target(args.target)
    if args.max_cells < 0:
        raise ConfigError(f"--max-cells {args.max_cells} is negative; give 0 to use recorded cells only.")
    snapshot = releases.load(args.settings.releases)
    out = args.settings.out
    opts = bisect.run_options(args.settings, timeout=args.timeout, reruns=args.reruns,
                              snapshot=snapshot)
    bench = bisect.Bench(opts, tuple(args.scenario or DEFAULT_SCENARIOS), fresh=args.fresh)
    start = bench.own(Cell.make(python, pins))  # on the user's suite when one is in force
    log.answer(f"explain {bisect.describe_pins(python, pins)}\nscenarios {', '.join(bench.wanted)}; "
          f"at most {args.max_cells} new cells", flush=True)
    result = explain(start, bench, snapshot, budget=args.max_cells)
    took = time.monotonic() - started
    log.answer(report(result, took=took))
    bisect.append_finding(out / FINDINGS, finding_json(result, bench.wanted, run_id=opts.run_id,
                                                       started_at=began, took=took))
    log.info(f"findings appended to {out / FINDINGS}")
    return 0


# --------------------------------------------------------------------------- the report


def report(result: Explanation, *, took: float = 0.0) -> str:
    """The ranked fixes and workarounds, each with its evidence, then what else was tried."""
    lines = ["", f"start {result.start.candidate.cell.id} ({result.start.source}):",
             f"  {_state(result.start)}"]
    if result.start.verdict == "fix":
        return "\n".join(lines + ["", "every scenario passes already: nothing to change"])
    fixes, ways = result.ranked("fix"), result.ranked("workaround")
    lines += ["", "fixes (every scenario passes), smallest change first:" if fixes
              else "fixes: none found within the budget"]
    lines += [ln for n, t in enumerate(fixes, 1) for ln in _candidate_lines(n, t)]
    if ways:
        lines += ["", ("workarounds (the suite passes only if its e2e tests run last or in "
                       "their own pytest process):")]
        lines += [ln for n, t in enumerate(ways, len(fixes) + 1) for ln in _candidate_lines(n, t)]
    lines += _rest_lines(result)
    counts = {s: sum(t.source == s for t in result.trials) for s in ("ran", "recorded", "ruled out",
                                                                     "not tried")}
    total = (f"{len(result.trials)} changes considered: {result.ran} cells run (budget "
             f"{result.budget}), {counts['recorded']} from recorded results, {counts['ruled out']} "
             f"ruled out by declared metadata, {counts['not tried']} not tried; "
             f"{bisect.duration(took)}")
    lines += ["", total]
    return "\n".join(lines)


def _state(trial: Trial) -> str:
    obs = trial.observation
    if obs is None:
        return trial.reason or trial.source
    return obs.unusable or obs.describe()


def _brief(trial: Trial) -> str:
    """Outcomes per scenario, then the distinct signatures once: a line, not a paragraph."""
    obs = trial.observation
    if obs is None or obs.unusable:
        return _state(trial)
    outcomes = ", ".join(f"{r.scenario} {r.outcome.value}" for r in obs.records)
    sigs = list(dict.fromkeys(s for group in obs.signatures for s in group))
    return outcomes + (f" ({'; '.join(sigs)})" if sigs else "")


def _candidate_lines(number: int, trial: Trial) -> list[str]:
    c, obs = trial.candidate, trial.observation
    how = ""
    if trial.verdict == "workaround":
        how = ", then run the e2e tests " + " or ".join(dict.fromkeys(WAYS[w] for w in trial.ways))
    size = f"{c.size} change{'s' if c.size != 1 else ''}" + (" + how the tests run" if how else "")
    lines = [f"  {number}. {c.text or 'keep every pin'}{how}  [{size}]",
             f"     evidence: {c.cell.id} ({trial.source}; run {', '.join(obs.run_ids)})",
             f"       {obs.describe()}"]
    missing = [s.name for s in scenarios.for_cell(c.cell, DEFAULT_SCENARIOS)
               if obs.record(s.name) is None]
    if missing and trial.source == "recorded":
        lines.append(f"       not recorded: {', '.join(missing)}")
    key = next((obs.record(s) for s in ("e2e-first", *WAYS) if obs.record(s)), obs.records[0])
    lines.append(f"     reproduce: {key.repro}")
    return lines


def _rest_lines(result: Explanation) -> list[str]:
    groups = {"fails": "still failing", "incomplete": "recorded without e2e-first",
              "unusable": "could not be measured", "ruled out": "ruled out by declared metadata",
              "not tried": "not tried (budget, or larger than a fix already found)"}
    lines = []
    for verdict, title in groups.items():
        found = [t for t in result.trials if t.verdict == verdict]
        if found:
            lines += ["", f"{title}:"]
            lines += [f"  {t.candidate.text}: {_brief(t)}" if verdict != "not tried"
                      else f"  {t.candidate.text}" for t in found]
    return lines


# --------------------------------------------------------------------------- the findings


def finding_json(result: Explanation, wanted: Sequence[str], *, run_id: str, started_at: str,
                 took: float) -> dict:
    """One line of ``explain.jsonl``: the start and the ranked candidates, for whence and the site."""
    start = result.start
    ranked = result.ranked("fix") + result.ranked("workaround")
    return {
        "schema": SCHEMA, "kind": "explain", "run_id": run_id, "started_at": started_at,
        "duration_s": round(took, 1), "scenarios": list(wanted), "budget": result.budget,
        "cells_run": result.ran,
        "start": {**_trial_json(start), "signatures": _signatures(start)},
        "candidates": [{"rank": n, **_trial_json(t)} for n, t in enumerate(ranked, 1)],
        "tried": [_trial_json(t) for t in result.trials if t not in ranked],
    }


def _trial_json(trial: Trial) -> dict:
    obs = trial.observation
    return {
        "kind": trial.verdict, "size": trial.candidate.size, "summary": trial.candidate.text,
        "how": (list(dict.fromkeys(f"run the e2e tests {WAYS[w]}" for w in trial.ways))
                if trial.verdict == "workaround" else []),
        "changes": [dataclasses.asdict(s) for s in trial.candidate.steps],
        "cell_id": trial.candidate.cell.id, "requested": trial.candidate.cell.requested,
        "source": trial.source, "reason": trial.reason or (obs.unusable if obs else None),
        "run_ids": list(obs.run_ids) if obs else [],
        "scenarios": {r.scenario: {"outcome": r.outcome.value, "signature": r.signature,
                                   "signatures": list(sigs), "repro": r.repro}
                      for r, sigs in zip(obs.records, obs.signatures)} if obs else {},
    }


def _signatures(trial: Trial) -> list[str]:
    obs = trial.observation
    return list(dict.fromkeys(s for sigs in (obs.signatures if obs else ()) for s in sigs))
