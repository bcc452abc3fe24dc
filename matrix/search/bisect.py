"""Bisect: the releases along one axis where a cell's behaviour changes.

``python -m matrix bisect python=3.13 pytest-playwright=0.7.1 playwright=1.56.0 --axis
pytest-asyncio --from 0.21.2 --to 1.5.0`` orders the axis's releases from the snapshot
(final releases; ``--releases minors`` keeps the newest patch of each minor), drops those
that declared metadata rules out next to the other pins, and binary-searches them for
every release where a cell's *key* changes. Pins left out are the resolver's to pick.

A cell's key is, for each scenario run (default ``control`` and ``e2e-first``), its
outcome and the set of distinct signatures its failures show, read back from the JUnit
XML kept beside the log (``--compare primary`` uses the record's first signature only).
The set is the honest key: pytest-asyncio 0.24.0 fails setups with one loop message and
test bodies with another, and the first failure alone hides that.

The report speaks of change, not of good and bad: each change point says what changed
(``e2e-first signature set {A} -> {B}``, ``control fail -> pass``), and a scenario that
fails (or passes) at every release of the range is said to in so many words. "Passes"
and "fails" are used only for outcomes.

The search assumes what every bisection assumes: when two measured releases have equal
keys, nothing changed between them. Such stretches are reported as "assumed unchanged"
with the number of releases not run, so a change that reverts inside one can be checked.
Releases that cannot be measured (unresolvable, not installable, no interpreter, infra)
are stepped around: the neighbour is tried instead, and the report says so.

Cells are measured through the shared bench (:mod:`matrix.search.trials`): recorded
results are reused, new cells are recorded like any other. The findings are appended to
``<results>/bisect.jsonl`` (one JSON object per bisect; see :func:`finding_json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence

from packaging.version import Version

from matrix import log
from matrix.define import releases, scenarios, selection
from matrix.define.cell import DISTRIBUTIONS, Cell
from matrix.errors import ConfigError
from matrix.measure import runner
from matrix.results import findings
from matrix.results.record import Outcome, Record
from matrix.search import trials
from matrix.search.trials import Observation, describe_pins

HELP = "find the releases along one axis where a cell's outcome or signatures change"
#: What ``loop-compat bisect --help`` says (the docstring above is for developers).
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
SCHEMA = findings.SCHEMAS[findings.BISECT]


# --------------------------------------------------------------------------- the releases


@dataclasses.dataclass(frozen=True, kw_only=True)
class Axis:
    """The ordered releases to search, from the ``start`` end to the ``end`` end."""

    name: str
    versions: tuple[str, ...]
    ruled_out: tuple[tuple[str, str], ...] = ()  # (version, reason) from declared metadata


def axis_releases(
    axis: str,
    python: str,
    pins: Mapping[str, str],
    snapshot: releases.Snapshot,
    *,
    start: str | None = None,
    end: str | None = None,
    every: str = "all",
) -> Axis:
    """The releases of ``axis`` from ``start`` to ``end`` that the other pins allow.

    Defaults: the oldest and the newest such release. ``every="minors"`` keeps the newest
    patch of each minor (plus the two ends).
    """
    if axis != "python" and axis not in DISTRIBUTIONS:
        raise ConfigError(
            f"unknown axis '{axis}'; choose python or one of: {', '.join(DISTRIBUTIONS)}."
        )
    others = {d: v for d, v in pins.items() if d != axis}
    allowed, ruled_out = [], []
    for version in _ordered(axis, snapshot):
        reason = _ruled_out(axis, version, python, others, snapshot)
        if reason:
            ruled_out.append((version, reason))
        else:
            allowed.append(version)
    if not allowed:
        raise ConfigError(
            f"no release of {axis} in the snapshot fits {describe_pins(python, others)}"
            f"{': ' + ruled_out[0][1] if ruled_out else ''}."
        )
    lo = _endpoint(axis, start, allowed, ruled_out, allowed[0])
    hi = _endpoint(axis, end, allowed, ruled_out, allowed[-1])
    if lo == hi:
        raise ConfigError(f"--from and --to are both {axis} {lo}; give two different releases.")
    span = _between(allowed, lo, hi, axis, every)
    low, high = sorted((_key(axis, lo), _key(axis, hi)))
    inside = tuple((v, r) for v, r in ruled_out if low <= _key(axis, v) <= high)
    return Axis(name=axis, versions=tuple(span), ruled_out=inside)


def _ordered(axis: str, snapshot: releases.Snapshot) -> list[str]:
    if axis == "python":
        return releases.python_versions()
    return [
        r.version
        for r in snapshot.releases(axis)
        if not (r.parsed.is_prerelease or r.parsed.is_devrelease)
    ]


def _key(axis: str, version: str):
    return tuple(int(x) for x in version.split(".")) if axis == "python" else Version(version)


def _ruled_out(
    axis: str, version: str, python: str, others: Mapping[str, str], snapshot: releases.Snapshot
) -> str | None:
    if axis == "python":
        return selection.declared_incompatible(version, dict(others), snapshot)
    return selection.declared_incompatible(python or "3", {**others, axis: version}, snapshot)


def _endpoint(
    axis: str,
    wanted: str | None,
    allowed: list[str],
    ruled_out: list[tuple[str, str]],
    default: str,
) -> str:
    if wanted is None:
        return default
    match = [v for v in allowed if _key(axis, v) == _key(axis, wanted)]
    if match:
        return match[0]
    why = next((r for v, r in ruled_out if _key(axis, v) == _key(axis, wanted)), None)
    if why:
        raise ConfigError(
            f"{axis} {wanted} cannot join the other pins ({why}); choose another end."
        )
    raise ConfigError(
        f"{axis} {wanted} is not a final release in the releases snapshot "
        f"({allowed[0]} to {allowed[-1]} fit); refresh it with: nox -s releases."
    )


def _between(allowed: list[str], lo: str, hi: str, axis: str, every: str) -> list[str]:
    """The releases from ``lo`` to ``hi`` inclusive, in that direction."""
    low, high = sorted((lo, hi), key=lambda v: _key(axis, v))
    span = [v for v in allowed if _key(axis, low) <= _key(axis, v) <= _key(axis, high)]
    if every == "minors" and axis != "python":
        newest = {}
        for v in span:
            newest[Version(v).release[:2]] = v  # ascending: the last one seen is the newest
        span = [v for v in span if v in newest.values() or v in (lo, hi)]
    return span if _key(axis, lo) <= _key(axis, hi) else span[::-1]


def expected_resolution(
    python: str, pins: Mapping[str, str], snapshot: releases.Snapshot
) -> tuple[tuple[str, str], ...]:
    """What the resolver is expected to pick for the tracked distributions left out, from
    declared metadata: the newest release each pinned (or picked) release allows. A hint
    only (one level of requirements, no markers beyond Python): it tells bisect where the
    resolver, not the axis, may change a cell (pytest-asyncio 0.23.4 declares pytest<8)."""
    chosen = dict(pins)
    for _ in range(2):  # a picked release's own requirements may narrow another pick
        for dist in DISTRIBUTIONS:
            if dist in pins:
                continue
            chosen.pop(dist, None)
            picked = _newest_allowed(dist, python, chosen, snapshot)
            if picked is not None:
                chosen[dist] = picked
    return tuple((d, v) for d, v in chosen.items() if d not in pins)


def _newest_allowed(
    dist: str, python: str, chosen: Mapping[str, str], snapshot: releases.Snapshot
) -> str | None:
    """The newest final release of ``dist`` that every chosen release's requirement allows;
    None when nothing chosen requires it (then it is not installed at all)."""
    demands = []
    for other, version in chosen.items():
        release = snapshot.release(other, version) if other != dist else None
        spec = release.requirement(dist, python or None) if release else None
        if spec is not None:
            demands.append(spec)
    if not demands:
        return None
    fits = [
        r
        for r in snapshot.releases(dist)
        if not (r.parsed.is_prerelease or r.parsed.is_devrelease)
        and (not python or r.allows_python(python))
        and all(spec.contains(r.parsed, prereleases=True) for spec in demands)
    ]
    return fits[-1].version if fits else None


# --------------------------------------------------------------------------- the search


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """Two neighbouring measured releases whose keys differ."""

    last: str  # the last release with the old key
    first: str  # the first release with the new key
    unusable: tuple[str, ...] = ()  # releases between them that could not be measured


@dataclasses.dataclass(frozen=True, kw_only=True)
class Gap:
    """Measured releases with equal keys: the releases between them were not run."""

    start: str
    end: str
    skipped: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Search:
    """The outcome of a search over ``versions`` (ordered from the start of the range)."""

    versions: tuple[str, ...]
    observed: Mapping[str, Observation]
    changes: tuple[Change, ...]
    gaps: tuple[Gap, ...]
    stepped: tuple[tuple[str, str], ...]  # (release, why) stepped around


def search(
    versions: Sequence[str],
    look: Callable[[str], Observation],
    compare: str = "set",
    hint: Callable[[str], object] | None = None,
    verify_gaps: bool = False,
) -> Search:
    """Every change point along ``versions``, measuring about log2(N) releases per change.

    ``look`` measures one release (the real one runs or reuses a cell; tests pass a table).
    Between two measured releases with different keys the middle release is measured and
    each half is searched again; equal keys end the search there (a ``Gap``), unless
    ``hint`` (what the resolver is expected to pick, see :func:`expected_resolution`)
    differs inside: such a release is measured too; ``verify_gaps`` measures the middle of
    every such stretch once more. A release that cannot be measured is replaced by its
    nearest neighbour inside the interval.
    """
    state = _State(
        versions=list(versions),
        look=look,
        compare=compare,
        hint=hint or (lambda version: None),
        verify=verify_gaps,
    )
    lo = state.usable(range(len(versions)))
    hi = state.usable(range(len(versions) - 1, -1, -1))
    if lo is not None and hi is not None and lo < hi:
        state.split(lo, hi)
    return Search(
        versions=tuple(versions),
        observed=dict(state.seen),
        changes=tuple(sorted(state.changes, key=lambda c: versions.index(c.last))),
        gaps=tuple(sorted(state.gaps, key=lambda g: versions.index(g.start))),
        stepped=tuple(
            (v, state.seen[v].unusable)
            for v in versions
            if v in state.seen and state.seen[v].unusable
        ),
    )


@dataclasses.dataclass(kw_only=True)
class _State:
    versions: list[str]
    look: Callable[[str], Observation]
    compare: str
    hint: Callable[[str], object]
    verify: bool = False
    seen: dict[str, Observation] = dataclasses.field(default_factory=dict)
    changes: list[Change] = dataclasses.field(default_factory=list)
    gaps: list[Gap] = dataclasses.field(default_factory=list)

    def observe(self, index: int) -> Observation:
        version = self.versions[index]
        if version not in self.seen:
            self.seen[version] = self.look(version)
        return self.seen[version]

    def usable(self, order) -> int | None:
        """The first index in ``order`` whose release can be measured."""
        return next((i for i in order if self.observe(i).unusable is None), None)

    def split(self, lo: int, hi: int, verify: bool | None = None) -> None:
        verify = self.verify if verify is None else verify
        if self.observe(lo).key(self.compare) == self.observe(hi).key(self.compare):
            mid = self.usable(self._unlike(lo, hi))
            if mid is None and verify and hi - lo > 1:  # one look inside, then trust the ends
                mid, verify = self.usable(_outward((lo + hi) // 2, lo, hi)), False
            if mid is None:
                if hi - lo > 1:
                    self.gaps.append(
                        Gap(start=self.versions[lo], end=self.versions[hi], skipped=hi - lo - 1)
                    )
                return
        else:
            mid = self.usable(_outward((lo + hi) // 2, lo, hi))
            if mid is None:
                self.changes.append(
                    Change(
                        last=self.versions[lo],
                        first=self.versions[hi],
                        unusable=tuple(self.versions[lo + 1 : hi]),
                    )
                )
                return
        self.split(lo, mid, verify)
        self.split(mid, hi, verify)

    def _unlike(self, lo: int, hi: int) -> list[int]:
        """Releases between equal ends for which the resolver is expected to pick otherwise."""
        ends = (self.hint(self.versions[lo]), self.hint(self.versions[hi]))
        odd = [i for i in range(lo + 1, hi) if self.hint(self.versions[i]) not in ends]
        return sorted(odd, key=lambda i: (abs(i - (lo + hi) // 2), i))


def _outward(mid: int, lo: int, hi: int) -> list[int]:
    """Indexes strictly between ``lo`` and ``hi``, nearest to ``mid`` first."""
    inside = range(lo + 1, hi)
    return sorted(inside, key=lambda i: (abs(i - mid), i))


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
    bench.check(_cell_at(axis.name, axis.versions[-1], python, others))
    log.answer(header(axis, python, others, bench.wanted, args.compare, snapshot))
    found = search(
        axis.versions,
        lambda v: bench.measure(_cell_at(axis.name, v, python, others)),
        args.compare,
        hint=lambda v: _hint(axis.name, v, python, others, snapshot),
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


def _hint(
    axis: str, version: str, python: str, others: Mapping[str, str], snapshot: releases.Snapshot
) -> tuple:
    cell = _cell_at(axis, version, python, others)
    return expected_resolution(
        cell.python,
        {d: v for d, v in cell.pins if d != axis} | ({axis: version} if axis != "python" else {}),
        snapshot,
    )


def _cell_at(axis: str, version: str, python: str, others: Mapping[str, str]) -> Cell:
    if axis == "python":
        return Cell.make(version, dict(others))
    return Cell.make(python, {**others, axis: version})


def header(
    axis: Axis,
    python: str,
    others: Mapping[str, str],
    wanted: Sequence[str],
    compare: str,
    snapshot: releases.Snapshot | None = None,
) -> str:
    """What is searched, in two lines."""
    left = ""
    if snapshot is not None:
        ends = [
            _hint(axis.name, v, python, others, snapshot)
            for v in (axis.versions[0], axis.versions[-1])
        ]
        picked = dict.fromkeys(d for end in ends for d, _ in end)
        left = f"; {', '.join(picked)} left to the resolver" if picked else ""
    key = (
        "each scenario's outcome and the set of signatures its failures show"
        if compare == "set"
        else "each scenario's outcome and first signature"
    )
    return (
        f"bisect {axis.name} from {axis.versions[0]} to {axis.versions[-1]}: "
        f"{len(axis.versions)} releases; {describe_pins(python, others)}{left}\n"
        f"scenarios {', '.join(wanted)}; a cell's key: {key}"
    )


# --------------------------------------------------------------------------- the report


def report(found: Search, axis: Axis, compare: str, *, ran: int, took: float) -> str:
    """The search as text: every release's state, what holds across the whole range, each
    change point as ``A -> B`` with its repro commands."""
    lines = ["", f"releases (from {found.versions[0]} to {found.versions[-1]}):"]
    lines += _release_lines(found, compare)
    lines += [""] + [f"{line}" for line in across(found)]
    lines += ["", f"change points: {len(found.changes) or 'none'}"]
    for number, change in enumerate(found.changes, 1):
        lines += _change_lines(number, change, found, compare)
    if found.stepped:
        lines += ["", "stepped around (could not be measured; a neighbour was tried instead):"]
        lines += [f"  {v}: {why}" for v, why in found.stepped]
    if axis.ruled_out:
        lines += ["", "ruled out by declared metadata (not run):"]
        lines += [f"  {axis.name} {v}: {why}" for v, why in axis.ruled_out]
    if found.gaps:
        lines += ["", "assumed unchanged (both ends agree; the releases between were not run):"]
        lines += [f"  {g.start} .. {g.end} ({g.skipped} not run)" for g in found.gaps]
    reused = sum(1 for o in found.observed.values() if not o.ran)
    total = (
        f"{len(found.observed)} cells measured ({ran} run, {reused} reused from recorded "
        f"results) of the {len(found.versions)} a full grid of this range needs; "
        f"{trials.duration(took)}"
    )
    lines += ["", total]
    return "\n".join(lines)


def across(found: Search) -> list[str]:
    """What each scenario does over the whole range, in plain words: it fails (or passes)
    at every release, or where it starts or stops passing. Good and bad are never
    inferred from the ends: both may fail."""
    usable = [
        found.observed[v]
        for v in found.versions
        if v in found.observed and found.observed[v].unusable is None
    ]
    if not usable:
        return ["no release in the range could be measured"]
    others = len(found.versions) - len(usable)
    assumed = (
        f" at each of the {len(usable)} measured; the other {others} lie between measured "
        "releases that agree"
        if others
        else " at each"
    )
    lines = []
    for scenario in dict.fromkeys(r.scenario for obs in usable for r in obs.records):
        outcomes = [obs.record(scenario).outcome for obs in usable if obs.record(scenario)]
        passes = [o is Outcome.PASS for o in outcomes]
        if all(passes):
            lines.append(f"every release in the range passes {scenario} (pass{assumed})")
        elif not any(passes):
            kinds = " or ".join(dict.fromkeys(o.value for o in outcomes))
            lines.append(f"every release in the range fails {scenario} ({kinds}{assumed})")
        else:
            lines += _pass_changes(found, scenario)
    return lines


def _pass_changes(found: Search, scenario: str) -> list[str]:
    """Where ``scenario`` starts or stops passing, one line per such change point."""
    lines = []
    for change in found.changes:
        before, after = (found.observed[v].record(scenario) for v in (change.last, change.first))
        if before is None or after is None:
            continue
        if (before.outcome is Outcome.PASS) != (after.outcome is Outcome.PASS):
            verb = "passes" if after.outcome is Outcome.PASS else "fails"
            lines.append(
                f"{scenario} {verb} from {change.first} on ({change.last}: "
                f"{before.outcome.value}; {change.first}: {after.outcome.value})"
            )
    return lines


def _release_lines(found: Search, compare: str) -> list[str]:
    lines, pending = [], 0
    for version in found.versions:
        obs = found.observed.get(version)
        if obs is None:
            pending += 1
            continue
        if pending:
            lines.append(f"  {'':14} ({pending} not run)")
            pending = 0
        state = obs.unusable or obs.describe(compare)
        source = "ran" if obs.ran else "recorded"
        lines.append(f"  {version:14} {source:8} {state}{_resolved_note(obs)}")
    if pending:
        lines.append(f"  {'':14} ({pending} not run)")
    return lines


def _resolved_note(obs: Observation) -> str:
    picked = {
        d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS and d not in obs.cell.pin_map
    }
    return (
        f"  [resolver: {', '.join(f'{d} {v}' for d, v in sorted(picked.items()))}]"
        if picked
        else ""
    )


def what_changed(before: Observation, after: Observation, compare: str = "set") -> list[str]:
    """Per scenario whose key differs: ``control fail -> pass`` or ``e2e-first signature
    set {a, b} -> {a, c}`` (both when outcome and signatures move)."""
    old, new = dict(_by_scenario(before, compare)), dict(_by_scenario(after, compare))
    word = "signature set" if compare == "set" else "first signature"
    parts = []
    for scenario in [s for s in new if old.get(s) != new[s]]:
        (o_out, o_sig), (n_out, n_sig) = old.get(scenario, ("not run", ())), new[scenario]
        text = [f"{o_out} -> {n_out}"] if o_out != n_out else []
        if _as_set(o_sig) != _as_set(n_sig):
            text.append(f"{word} {_braces(o_sig)} -> {_braces(n_sig)}")
        parts.append(f"{scenario} {', '.join(text)}")
    return parts


def _as_set(sigs) -> tuple[str, ...]:
    return tuple(s for s in ((sigs,) if isinstance(sigs, str) or sigs is None else sigs) if s)


def _braces(sigs) -> str:
    return "{" + ", ".join(_as_set(sigs)) + "}"


def _change_lines(number: int, change: Change, found: Search, compare: str) -> list[str]:
    before, after = found.observed[change.last], found.observed[change.first]
    lines = [
        f"  {number}. {change.last} -> {change.first}: "
        + "; ".join(what_changed(before, after, compare)),
        f"     {change.last:>12}: {before.describe(compare)}",
        f"     {change.first:>12}: {after.describe(compare)}",
    ]
    if change.unusable:
        lines.append(f"     between them, not measurable: {', '.join(change.unusable)}")
    moved = _resolver_moves(before, after)
    if moved:
        lines.append(f"     the resolver also moved: {moved}")
    for obs in (before, after):
        for record in _differing(before, after, compare, obs):
            lines.append(f"     reproduce: {record.repro}")
    return lines


def _differing(
    before: Observation, after: Observation, compare: str, side: Observation
) -> list[Record]:
    """The records of ``side`` for the scenarios whose key differs between the two cells."""
    old, new = dict(_by_scenario(before, compare)), dict(_by_scenario(after, compare))
    names = [s for s in new if old.get(s) != new[s]] or list(new)
    return [r for r in side.records if r.scenario in names]


def _by_scenario(obs: Observation, compare: str) -> list[tuple[str, tuple]]:
    return [(item[0], item[1:]) for item in obs.key(compare)]


def _resolver_moves(before: Observation, after: Observation) -> str:
    old, new = before.resolved, after.resolved
    moved = [
        f"{d} {old[d]} -> {new[d]}"
        for d in DISTRIBUTIONS
        if d in old
        and d in new
        and old[d] != new[d]
        and d not in before.cell.pin_map
        and d not in after.cell.pin_map
    ]
    return ", ".join(moved)


# --------------------------------------------------------------------------- the findings


def finding_json(
    found: Search,
    axis: Axis,
    python: str,
    others: Mapping[str, str],
    wanted: Sequence[str],
    compare: str,
    *,
    run_id: str,
    started_at: str,
    took: float,
    ran: int,
) -> dict:
    """One line of ``bisect.jsonl``: the search, what holds across it and its change points.
    ``good``/``bad`` and ``last_good``/``first_bad`` name the two ends of the range and of
    each change point (kept for readers of earlier findings); ``from``/``to`` and
    ``before``/``after`` are the same without the judgement."""
    return {
        "schema": SCHEMA,
        "kind": "bisect",
        "run_id": run_id,
        "started_at": started_at,
        "duration_s": round(took, 1),
        "axis": axis.name,
        "python": python,
        "pins": dict(others),
        "scenarios": list(wanted),
        "compare": compare,
        "from": found.versions[0],
        "to": found.versions[-1],
        "good": found.versions[0],
        "bad": found.versions[-1],
        "releases": list(found.versions),
        "across": across(found),
        "measured": [
            _measured_json(v, found.observed[v]) for v in found.versions if v in found.observed
        ],
        "changes": [_change_json(c, found, compare) for c in found.changes],
        "gaps": [dataclasses.asdict(g) for g in found.gaps],
        "stepped": [{"version": v, "reason": why} for v, why in found.stepped],
        "ruled_out": [{"version": v, "reason": why} for v, why in axis.ruled_out],
        "cells_run": ran,
        "cells_measured": len(found.observed),
        "grid_size": len(found.versions),
    }


def _measured_json(version: str, obs: Observation) -> dict:
    return {
        "version": version,
        "cell_id": obs.cell.id,
        "source": "ran" if obs.ran else "recorded",
        "run_ids": list(obs.run_ids),
        "unusable": obs.unusable,
        "scenarios": {
            r.scenario: {
                "outcome": r.outcome.value,
                "signature": r.signature,
                "signatures": list(s),
            }
            for r, s in zip(obs.records, obs.signatures)
        },
        "resolved": {d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS},
    }


def _change_json(change: Change, found: Search, compare: str) -> dict:
    before, after = found.observed[change.last], found.observed[change.first]
    return {
        "last_good": change.last,
        "first_bad": change.first,
        "unusable": list(change.unusable),
        "from": change.last,
        "to": change.first,
        "what": what_changed(before, after, compare),
        "before": before.describe(compare),
        "after": after.describe(compare),
        "last_good_cell": before.cell.id,
        "first_bad_cell": after.cell.id,
        "repro": [
            r.repro for side in (before, after) for r in _differing(before, after, compare, side)
        ],
    }
