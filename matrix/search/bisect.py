"""Bisect: the releases along one axis where a cell's behaviour changes.

``python -m matrix bisect python=3.13 pytest-playwright=0.7.1 playwright=1.56.0 --axis
pytest-asyncio --good 0.21.2 --bad 1.5.0`` orders the axis's releases from the snapshot
(final releases; ``--releases minors`` keeps the newest patch of each minor), drops those
that declared metadata rules out next to the other pins, and binary-searches them for
every release where a cell's *key* changes. Pins left out are the resolver's to pick.

A cell's key is, for each scenario run (default ``control`` and ``e2e-first``), its
outcome and the set of distinct signatures its failures show, read back from the JUnit
XML kept beside the log (``--compare primary`` uses the record's first signature only).
The set is the honest key: pytest-asyncio 0.24.0 fails setups with one loop message and
test bodies with another, and the first failure alone hides that.

The search assumes what every bisection assumes: when two measured releases have equal
keys, nothing changed between them. Such stretches are reported as "assumed unchanged"
with the number of releases not run, so a change that reverts inside one can be checked.
Releases that cannot be measured (unresolvable, not installable, no interpreter, infra)
are stepped around: the neighbour is tried instead, and the report says so.

Every cell is run by :func:`matrix.measure.runner.run_cell`, so it is recorded like any other in
``results.jsonl``; a cell already recorded from the same inputs is reused, not rerun. The
cells searched are also listed in ``<results>/searched.toml`` (a definition with profile
``searched``) so that each record's repro command names a cell nox knows. The findings
are appended to ``<results>/bisect.jsonl`` (one JSON object per bisect; see
:func:`finding_json`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from matrix.measure import junit, runner, scenarios
from matrix.define import releases, selection
from matrix.results import store
from matrix.define.cell import ASYNC_PLUGIN, DISTRIBUTIONS, SYNC_PLUGIN, Cell
from matrix.errors import ConfigError
from matrix.results.record import Outcome, Record

HELP = "find the releases along one axis where a cell's outcome or signatures change"
FINDINGS = "bisect.jsonl"
SEARCHED = "searched.toml"
SEARCHED_PROFILE = "searched"
DEFAULT_SCENARIOS = ("control", "e2e-first")
SCHEMA = 1
#: Outcomes that say nothing about the combination's behaviour: stepped around.
UNUSABLE = frozenset({Outcome.UNRESOLVABLE, Outcome.NO_INTERPRETER, Outcome.INFRA})
#: Scenario lists that other commands run, whose records are reused (see ``Bench``).
KNOWN_LISTS: tuple[tuple[str, ...], ...] = (
    scenarios.NAMES, DEFAULT_SCENARIOS,
    ("control", "e2e-first", "e2e-first-cov", "e2e-last", "isolated"),  # explain's default
    *((name,) for name in scenarios.NAMES),
)
_PREFIXES = sorted(((short, dist) for dist, short in DISTRIBUTIONS.items()),
                   key=lambda p: -len(p[0]))  # "asyncio" before "async", "coverage" before "cov"
_PYTHON = re.compile(r"^3\.\d+$")


# --------------------------------------------------------------------------- the target


def parse_target(words: Sequence[str], *, need_python: bool = True) -> tuple[str, dict[str, str]]:
    """(python, pins) from a cell id or from ``key=version`` words; ConfigError if malformed."""
    if len(words) == 1 and "=" not in words[0]:
        python, pins = _from_cell_id(words[0])
    else:
        python, pins = _from_pins(words)
    if need_python and not python:
        raise ConfigError("the cell names no Python; add python=3.X (e.g. python=3.13).")
    if SYNC_PLUGIN in pins and ASYNC_PLUGIN in pins:
        raise ConfigError("pytest-playwright and pytest-playwright-asyncio cannot be pinned "
                          "together; a suite uses one of them.")
    return python, pins


def _from_pins(words: Sequence[str]) -> tuple[str, dict[str, str]]:
    python, pins = "", {}
    for word in words:
        key, sep, value = word.partition("=")
        value = value.lstrip("=").strip()
        key = "python" if key.strip().lower() == "python" else canonicalize_name(key.strip())
        if not sep or not value:
            raise ConfigError(f"'{word}' is not a pin; write key=version, e.g. pytest-asyncio=1.2.0.")
        if key == "python":
            python = _python(value)
        elif key in DISTRIBUTIONS:
            pins[key] = _version(key, value)
        else:
            raise ConfigError(f"unknown distribution '{key}' in '{word}'; the matrix knows: "
                              f"python, {', '.join(DISTRIBUTIONS)}.")
    return python, pins


def _from_cell_id(text: str) -> tuple[str, dict[str, str]]:
    python, pins = "", {}
    for part in text.split("-"):
        if re.match(r"^py3\.\d+$", part) and not python and not pins:
            python = part[2:]
            continue
        found = next(((s, d) for s, d in _PREFIXES if part.startswith(s) and part[len(s):][:1].isdigit()),
                     None)
        if found is None:
            raise ConfigError(f"'{text}' is neither a cell id (like py3.13-asyncio1.2.0-sync0.7.1) "
                              "nor pins (like python=3.13 pytest-asyncio=1.2.0).")
        short, dist = found
        pins[dist] = _version(dist, part[len(short):])
    return python, pins


def _python(value: str) -> str:
    if not _PYTHON.match(value):
        raise ConfigError(f"python={value} is not a Python minor version; write e.g. python=3.13.")
    return value


def _version(dist: str, value: str) -> str:
    try:
        Version(value)
    except InvalidVersion:
        raise ConfigError(f"{dist}={value} is not an exact version; write e.g. {dist}=1.2.0.") from None
    return value


def describe_pins(python: str, pins: Mapping[str, str]) -> str:
    """``Python 3.13, pytest-playwright 0.7.1, ...`` as people read it."""
    parts = [f"Python {python}"] if python else []
    return ", ".join(parts + [f"{d} {v}" for d, v in Cell.make(python, dict(pins)).pins])


# --------------------------------------------------------------------------- the releases


@dataclasses.dataclass(frozen=True, kw_only=True)
class Axis:
    """The ordered releases to search, from the ``good`` end to the ``bad`` end."""

    name: str
    versions: tuple[str, ...]
    ruled_out: tuple[tuple[str, str], ...] = ()  # (version, reason) from declared metadata


def axis_releases(axis: str, python: str, pins: Mapping[str, str], snapshot: releases.Snapshot,
                  *, good: str | None = None, bad: str | None = None, every: str = "all") -> Axis:
    """The releases of ``axis`` between ``good`` and ``bad`` that the other pins allow.

    Defaults: the oldest and the newest such release. ``every="minors"`` keeps the newest
    patch of each minor (plus the two ends).
    """
    if axis != "python" and axis not in DISTRIBUTIONS:
        raise ConfigError(f"unknown axis '{axis}'; choose python or one of: {', '.join(DISTRIBUTIONS)}.")
    others = {d: v for d, v in pins.items() if d != axis}
    allowed, ruled_out = [], []
    for version in _ordered(axis, snapshot):
        reason = _ruled_out(axis, version, python, others, snapshot)
        if reason:
            ruled_out.append((version, reason))
        else:
            allowed.append(version)
    if not allowed:
        raise ConfigError(f"no release of {axis} in the snapshot fits {describe_pins(python, others)}"
                          f"{': ' + ruled_out[0][1] if ruled_out else ''}.")
    lo = _endpoint(axis, good, allowed, ruled_out, allowed[0])
    hi = _endpoint(axis, bad, allowed, ruled_out, allowed[-1])
    if lo == hi:
        raise ConfigError(f"--good and --bad are both {axis} {lo}; give two different releases.")
    span = _between(allowed, lo, hi, axis, every)
    low, high = sorted((_key(axis, lo), _key(axis, hi)))
    inside = tuple((v, r) for v, r in ruled_out if low <= _key(axis, v) <= high)
    return Axis(name=axis, versions=tuple(span), ruled_out=inside)


def _ordered(axis: str, snapshot: releases.Snapshot) -> list[str]:
    if axis == "python":
        return releases.python_versions()
    return [r.version for r in snapshot.releases(axis)
            if not (r.parsed.is_prerelease or r.parsed.is_devrelease)]


def _key(axis: str, version: str):
    return tuple(int(x) for x in version.split(".")) if axis == "python" else Version(version)


def _ruled_out(axis: str, version: str, python: str, others: Mapping[str, str],
               snapshot: releases.Snapshot) -> str | None:
    if axis == "python":
        return selection.declared_incompatible(version, dict(others), snapshot)
    return selection.declared_incompatible(python or "3", {**others, axis: version}, snapshot)


def _endpoint(axis: str, wanted: str | None, allowed: list[str],
              ruled_out: list[tuple[str, str]], default: str) -> str:
    if wanted is None:
        return default
    match = [v for v in allowed if _key(axis, v) == _key(axis, wanted)]
    if match:
        return match[0]
    why = next((r for v, r in ruled_out if _key(axis, v) == _key(axis, wanted)), None)
    if why:
        raise ConfigError(f"{axis} {wanted} cannot join the other pins ({why}); choose another end.")
    raise ConfigError(f"{axis} {wanted} is not a final release in the releases snapshot "
                      f"({allowed[0]} to {allowed[-1]} fit); refresh it with: nox -s releases.")


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


def expected_resolution(python: str, pins: Mapping[str, str],
                        snapshot: releases.Snapshot) -> tuple[tuple[str, str], ...]:
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


def _newest_allowed(dist: str, python: str, chosen: Mapping[str, str],
                    snapshot: releases.Snapshot) -> str | None:
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
    fits = [r for r in snapshot.releases(dist) if not (r.parsed.is_prerelease or r.parsed.is_devrelease)
            and (not python or r.allows_python(python))
            and all(spec.contains(r.parsed, prereleases=True) for spec in demands)]
    return fits[-1].version if fits else None


# --------------------------------------------------------------------------- observations


@dataclasses.dataclass(frozen=True, kw_only=True)
class Observation:
    """What one cell showed: its latest record per scenario and each one's signature set."""

    cell: Cell
    records: tuple[Record, ...]
    signatures: tuple[tuple[str, ...], ...]  # per record: distinct signatures, its own first
    ran: bool = False  # False when every scenario came from recorded results

    def record(self, scenario: str) -> Record | None:
        """The record of ``scenario``, if it was run."""
        return next((r for r in self.records if r.scenario == scenario), None)

    @property
    def unusable(self) -> str | None:
        """Why this cell says nothing about behaviour (unresolvable, not installable...), or None."""
        for r in self.records:
            if r.outcome in UNUSABLE or (r.signature or "").startswith("install: "):
                return f"{r.outcome.value}: {r.message or r.signature}"
        return None if self.records else "no scenario was run"

    def key(self, compare: str = "set") -> tuple:
        """Per scenario: outcome and the signature set (or the first signature only)."""
        if compare == "primary":
            return tuple((r.scenario, r.outcome.value, r.signature) for r in self.records)
        return tuple((r.scenario, r.outcome.value, tuple(sorted(s)))
                     for r, s in zip(self.records, self.signatures))

    def describe(self, compare: str = "set") -> str:
        """``control pass; e2e-first bug {loop-another-running, ...}``."""
        parts = []
        for r, sigs in zip(self.records, self.signatures):
            shown = ([r.signature] if r.signature else []) if compare == "primary" else list(sigs)
            parts.append(f"{r.scenario} {r.outcome.value}" + (f" {{{', '.join(shown)}}}" if shown else ""))
        return "; ".join(parts)

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.run_id for r in self.records))

    @property
    def resolved(self) -> dict[str, str]:
        """Versions installed in the cell's env (empty when it could not be resolved)."""
        return next((dict(r.resolved) for r in self.records if r.resolved), {})


def signature_set(out: Path, record: Record) -> tuple[str, ...]:
    """Every distinct failure signature of a scenario run: the record's own first, then the
    others in JUnit order, read from the XML kept beside its log (just its own without one)."""
    found = [record.signature] if record.signature else []
    if record.log and record.outcome not in (Outcome.PASS, *UNUSABLE):
        log = out / record.log
        for report in sorted(log.parent.glob(f"{log.stem}.junit-*.xml")):
            parsed = junit.read(report)
            found += [f.signature for f in parsed[1]] if parsed else []
    return tuple(dict.fromkeys(found))


def observe(cell: Cell, records: Sequence[Record], out: Path, *, ran: bool) -> Observation:
    """An observation from a cell's records (one per scenario, in run order)."""
    return Observation(cell=cell, records=tuple(records), ran=ran,
                       signatures=tuple(signature_set(out, r) for r in records))


# --------------------------------------------------------------------------- the bench


class Bench:
    """Measures cells for bisect and explain: recorded results first, ``run_cell`` otherwise.

    A record is reused when its cell id matches and its fingerprint is the one
    :func:`runner.fingerprint` gives for the scenario list of this search or of another
    command's usual run (``KNOWN_LISTS``): then its probe code and snapshot are the same.
    ``infra`` records are never reused. ``ran`` counts the cells that had to be run.
    """

    def __init__(self, opts: runner.RunOptions, wanted: Sequence[str], *, fresh: bool = False,
                 say: Callable[[str], None] | None = None) -> None:
        self.opts, self.wanted, self.fresh = opts, tuple(wanted), fresh
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.ran = 0
        self._records: dict[str, list[Record]] = {}
        self._prints: dict[tuple[str, tuple[str, ...]], set[str]] = {}  # hashing probes is slow
        self._reload()

    def _reload(self) -> None:
        self._records.clear()
        for record in store.read(self.opts.out, warn=False):
            self._records.setdefault(record.cell_id, []).append(record)

    def own(self, cell: Cell) -> Cell:
        """The cell as this search runs it: on the user's suite when one is in force."""
        suite = self.opts.suite.key if self.opts.suite else ""
        return cell if cell.suite == suite else dataclasses.replace(cell, suite=suite)

    def recorded_cells(self) -> list[Cell]:
        """Every cell of this search's kind (probe, or the suite in force) with records."""
        cells = []
        for cell_id, records in self._records.items():
            requested = dict(records[-1].requested)
            python = requested.pop("python", "") or ""
            cell = self.own(Cell.make(python, {d: v for d, v in requested.items()
                                               if d in DISTRIBUTIONS}))
            if cell.id == cell_id:  # another suite's cell (or an odd record) is not ours
                cells.append(cell)
        return cells

    def chosen(self, cell: Cell) -> list[scenarios.Scenario]:
        """The scenarios of this search that make sense for ``cell``."""
        return scenarios.for_cell(cell, self.wanted, self.opts.suite)

    def lookup(self, cell: Cell, *, partial: bool = False) -> Observation | None:
        """The cell from recorded results only; None unless every scenario is recorded
        (``partial``: whatever scenarios are recorded, None if none is)."""
        if self.fresh:
            return None
        cell = self.own(cell)
        chosen = self.chosen(cell)
        found = self._recorded(cell, chosen)
        if not found or (len(found) < len(chosen) and not partial):
            return None
        return observe(cell, [found[s.name] for s in chosen if s.name in found], self.opts.out,
                       ran=False)

    def measure(self, cell: Cell) -> Observation:
        """The cell, from recorded results when complete, else run (and recorded)."""
        known = self.lookup(cell)
        return known if known is not None else self.run(self.own(cell))

    def run(self, cell: Cell) -> Observation:
        """Run the scenarios of ``cell`` not recorded yet; every record is appended."""
        cell = self.own(cell)
        chosen = self.chosen(cell)
        remember(self.opts.out, cell, self.opts)
        with store.cell_lock(self.opts.out, cell.id):
            self._reload()  # another run may have measured it while we waited
            have = {} if self.fresh else self._recorded(cell, chosen)
            todo = [s.name for s in chosen if s.name not in have]
            if todo:
                started = time.monotonic()
                new = runner.run_cell(cell, chosen, self.opts, frozenset(have))
                have.update({r.scenario: r for r in new})
                self.ran += 1
                self.say(f"[matrix] ran {cell.id} ({', '.join(todo)}) in "
                         f"{time.monotonic() - started:.0f} s")
        return observe(cell, [have[s.name] for s in chosen if s.name in have], self.opts.out,
                       ran=bool(todo))

    def _recorded(self, cell: Cell, chosen: list[scenarios.Scenario]) -> dict[str, Record]:
        mine = [r for r in self._records.get(cell.id, ()) if r.outcome is not Outcome.INFRA]
        if not mine:
            return {}
        prints = self._fingerprints(cell, [s.name for s in chosen])
        latest = {r.scenario: r for r in mine if r.fingerprint in prints}
        return {s.name: latest[s.name] for s in chosen if s.name in latest}

    def _fingerprints(self, cell: Cell, names: list[str]) -> set[str]:
        key = (cell.id, tuple(names))
        if key not in self._prints:
            lists = {tuple(names)} | {tuple(s.name for s in scenarios.for_cell(cell, w, self.opts.suite))
                                      for w in KNOWN_LISTS}
            self._prints[key] = {runner.fingerprint(cell, list(lst), self.opts) for lst in lists}
        return self._prints[key]


def run_options(out: Path, *, timeout: float, reruns: int,
                snapshot: releases.Snapshot) -> runner.RunOptions:
    """Run options for searched cells: the snapshot's time, and repro commands that work."""
    from matrix.__main__ import run_id
    from matrix.measure.suite import load

    prefix = (f"MATRIX_CONFIG={shlex.quote(str(out / SEARCHED))} MATRIX_PROFILE={SEARCHED_PROFILE} "
              f"MATRIX_OUT={shlex.quote(str(out))} ")
    # A user's suite (MATRIX_SUITE) is searched like the probes; searched.toml names it.
    suite = load(Path(os.environ["MATRIX_SUITE"]), os.environ.get("MATRIX_SUITE_REQUIREMENTS")
                 ) if os.environ.get("MATRIX_SUITE") else None
    return runner.RunOptions(out=out, run_id=run_id(), timeout=timeout, reruns=reruns,
                             exclude_newer=snapshot.taken_at, repro_prefix=prefix, suite=suite)


def remember(out: Path, cell: Cell, opts: runner.RunOptions) -> None:
    """Add ``cell`` to ``<out>/searched.toml`` so that its records' repro commands work:
    ``nox -s 'cell(<id>)'`` only knows cells of the definition in force."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SEARCHED
    with _locked(out / ".searched.lock"):
        cells = _searched_cells(path)
        if cell.requested in cells:
            return
        cells.append(cell.requested)
        text = _searched_text(cells, opts)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        yield


def _searched_cells(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [dict(c) for c in data.get("profiles", {}).get(SEARCHED_PROFILE, {}).get("cell", [])]


def _searched_text(cells: list[dict[str, str]], opts: runner.RunOptions) -> str:
    lines = ["# Cells measured by `python -m matrix bisect` and `explain`, kept so that the repro",
             "# command of each of their records works:",
             f"#   MATRIX_CONFIG=<this file> MATRIX_PROFILE={SEARCHED_PROFILE} nox -s 'cell(<id>)'",
             f"[profiles.{SEARCHED_PROFILE}]",
             'description = "cells measured by bisect and explain"',
             f"timeout = {opts.timeout:g}", f"reruns = {opts.reruns}"]
    if opts.suite is not None:
        lines.append(f"suite = {json.dumps(str(opts.suite.root))}")
    lines.append("")
    for cell in cells:
        lines.append(f"[[profiles.{SEARCHED_PROFILE}.cell]]")
        lines += [f'{key} = "{value}"' for key, value in cell.items()] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the search


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """Two neighbouring measured releases whose keys differ."""

    last: str  # the last release with the old key (the good side)
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
    """The outcome of a search over ``versions`` (ordered from the good end)."""

    versions: tuple[str, ...]
    observed: Mapping[str, Observation]
    changes: tuple[Change, ...]
    gaps: tuple[Gap, ...]
    stepped: tuple[tuple[str, str], ...]  # (release, why) stepped around


def search(versions: Sequence[str], look: Callable[[str], Observation], compare: str = "set",
           hint: Callable[[str], object] | None = None, verify_gaps: bool = False) -> Search:
    """Every change point along ``versions``, measuring about log2(N) releases per change.

    ``look`` measures one release (the real one runs or reuses a cell; tests pass a table).
    Between two measured releases with different keys the middle release is measured and
    each half is searched again; equal keys end the search there (a ``Gap``), unless
    ``hint`` (what the resolver is expected to pick, see :func:`expected_resolution`)
    differs inside: such a release is measured too; ``verify_gaps`` measures the middle of
    every such stretch once more. A release that cannot be measured is replaced by its
    nearest neighbour inside the interval.
    """
    state = _State(versions=list(versions), look=look, compare=compare,
                   hint=hint or (lambda version: None), verify=verify_gaps)
    lo = state.usable(range(len(versions)))
    hi = state.usable(range(len(versions) - 1, -1, -1))
    if lo is not None and hi is not None and lo < hi:
        state.split(lo, hi)
    return Search(versions=tuple(versions), observed=dict(state.seen),
                  changes=tuple(sorted(state.changes, key=lambda c: versions.index(c.last))),
                  gaps=tuple(sorted(state.gaps, key=lambda g: versions.index(g.start))),
                  stepped=tuple((v, state.seen[v].unusable) for v in versions
                                if v in state.seen and state.seen[v].unusable))


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
                    self.gaps.append(Gap(start=self.versions[lo], end=self.versions[hi],
                                         skipped=hi - lo - 1))
                return
        else:
            mid = self.usable(_outward((lo + hi) // 2, lo, hi))
            if mid is None:
                self.changes.append(Change(last=self.versions[lo], first=self.versions[hi],
                                           unusable=tuple(self.versions[lo + 1:hi])))
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
    parser.add_argument("target", nargs="+", metavar="CELL_OR_PIN",
                        help="a cell id, or pins like python=3.13 pytest-playwright=0.7.1 "
                             "(leave a distribution out to let the resolver pick it)")
    parser.add_argument("--axis", required=True, help="the distribution (or python) to bisect along")
    parser.add_argument("--good", help="the release at the good end (default: the oldest that fits)")
    parser.add_argument("--bad", help="the release at the bad end (default: the newest that fits)")
    parser.add_argument("--releases", choices=("all", "minors"), default="all",
                        help="every final release (default) or the newest patch of each minor")
    parser.add_argument("--scenario", action="append", choices=scenarios.NAMES,
                        help="scenarios whose results make the key (default: control, e2e-first)")
    parser.add_argument("--compare", choices=("set", "primary"), default="set",
                        help="compare each scenario's set of signatures (default) or its first one")
    parser.add_argument("--verify-gaps", action="store_true",
                        help="measure the middle of every stretch whose ends agree, once")
    run_arguments(parser)


def run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options for running cells, shared with ``explain``."""
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds per pytest process (default %(default)g)")
    parser.add_argument("--reruns", type=int, default=1,
                        help="reruns of a failing scenario to tell flaky from real (default %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="run cells even if already recorded")


def run(args: argparse.Namespace) -> int:
    """``python -m matrix bisect``: search, print, and append the findings."""
    started, began = time.monotonic(), now()
    python, pins = parse_target(args.target, need_python=args.axis != "python")
    python = "" if args.axis == "python" else python  # the axis gives each cell its Python
    snapshot = releases.load()
    axis = axis_releases(args.axis, python, pins, snapshot, good=args.good, bad=args.bad,
                         every=args.releases)
    out = store.out_dir()
    opts = run_options(out, timeout=args.timeout, reruns=args.reruns, snapshot=snapshot)
    bench = Bench(opts, tuple(args.scenario or DEFAULT_SCENARIOS), fresh=args.fresh)
    others = {d: v for d, v in pins.items() if d != axis.name}
    print(header(axis, python, others, bench.wanted, args.compare, snapshot), flush=True)
    found = search(axis.versions, lambda v: bench.measure(_cell_at(axis.name, v, python, others)),
                   args.compare, hint=lambda v: _hint(axis.name, v, python, others, snapshot),
                   verify_gaps=args.verify_gaps)
    took = time.monotonic() - started
    print(report(found, axis, args.compare, ran=bench.ran, took=took))
    finding = finding_json(found, axis, python, others, bench.wanted, args.compare,
                           run_id=opts.run_id, started_at=began, took=took, ran=bench.ran)
    append_finding(out / FINDINGS, finding)
    print(f"findings appended to {out / FINDINGS}")
    return 0


def _hint(axis: str, version: str, python: str, others: Mapping[str, str],
          snapshot: releases.Snapshot) -> tuple:
    cell = _cell_at(axis, version, python, others)
    return expected_resolution(cell.python, {d: v for d, v in cell.pins if d != axis}
                               | ({axis: version} if axis != "python" else {}), snapshot)


def _cell_at(axis: str, version: str, python: str, others: Mapping[str, str]) -> Cell:
    if axis == "python":
        return Cell.make(version, dict(others))
    return Cell.make(python, {**others, axis: version})


def header(axis: Axis, python: str, others: Mapping[str, str], wanted: Sequence[str],
           compare: str, snapshot: releases.Snapshot | None = None) -> str:
    """What is searched, in two lines."""
    left = ""
    if snapshot is not None:
        ends = [_hint(axis.name, v, python, others, snapshot) for v in (axis.versions[0], axis.versions[-1])]
        picked = dict.fromkeys(d for end in ends for d, _ in end)
        left = f"; {', '.join(picked)} left to the resolver" if picked else ""
    key = ("each scenario's outcome and the set of signatures its failures show" if compare == "set"
           else "each scenario's outcome and first signature")
    return (f"bisect {axis.name} from {axis.versions[0]} (good end) to {axis.versions[-1]} (bad end): "
            f"{len(axis.versions)} releases; {describe_pins(python, others)}{left}\n"
            f"scenarios {', '.join(wanted)}; a cell's key: {key}")


# --------------------------------------------------------------------------- the report


def report(found: Search, axis: Axis, compare: str, *, ran: int, took: float) -> str:
    """The search as text: every release's state, the change points with repro commands."""
    lines = ["", "releases (good end first):"]
    lines += _release_lines(found, compare)
    lines += ["", f"change points: {len(found.changes) or 'none'}"]
    if found.changes:
        first = found.changes[0]
        lines.append(f"  first bad release: {first.first} (last good: {first.last}; every later "
                     "change point is measured from there on)")
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
    total = (f"{len(found.observed)} cells measured ({ran} run, {reused} reused from recorded "
             f"results) of the {len(found.versions)} a full grid of this range needs; {duration(took)}")
    lines += ["", total]
    return "\n".join(lines)


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
    picked = {d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS and d not in obs.cell.pin_map}
    return f"  [resolver: {', '.join(f'{d} {v}' for d, v in sorted(picked.items()))}]" if picked else ""


def _change_lines(number: int, change: Change, found: Search, compare: str) -> list[str]:
    before, after = found.observed[change.last], found.observed[change.first]
    lines = [f"  {number}. {change.last} -> {change.first}",
             f"     {change.last:>12}: {before.describe(compare)}",
             f"     {change.first:>12}: {after.describe(compare)}"]
    if change.unusable:
        lines.append(f"     between them, not measurable: {', '.join(change.unusable)}")
    moved = _resolver_moves(before, after)
    if moved:
        lines.append(f"     the resolver also moved: {moved}")
    for obs in (before, after):
        for record in _differing(before, after, compare, obs):
            lines.append(f"     reproduce: {record.repro}")
    return lines


def _differing(before: Observation, after: Observation, compare: str,
               side: Observation) -> list[Record]:
    """The records of ``side`` for the scenarios whose key differs between the two cells."""
    old, new = dict(_by_scenario(before, compare)), dict(_by_scenario(after, compare))
    names = [s for s in new if old.get(s) != new[s]] or list(new)
    return [r for r in side.records if r.scenario in names]


def _by_scenario(obs: Observation, compare: str) -> list[tuple[str, tuple]]:
    return [(item[0], item[1:]) for item in obs.key(compare)]


def _resolver_moves(before: Observation, after: Observation) -> str:
    old, new = before.resolved, after.resolved
    moved = [f"{d} {old[d]} -> {new[d]}" for d in DISTRIBUTIONS
             if d in old and d in new and old[d] != new[d]
             and d not in before.cell.pin_map and d not in after.cell.pin_map]
    return ", ".join(moved)


def duration(seconds: float) -> str:
    """``3 min 0 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def now() -> str:
    """The current UTC time as records write it."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- the findings


def finding_json(found: Search, axis: Axis, python: str, others: Mapping[str, str],
                 wanted: Sequence[str], compare: str, *, run_id: str, started_at: str,
                 took: float, ran: int) -> dict:
    """One line of ``bisect.jsonl``: the search and its change points, for the site."""
    return {
        "schema": SCHEMA, "kind": "bisect", "run_id": run_id, "started_at": started_at,
        "duration_s": round(took, 1), "axis": axis.name, "python": python, "pins": dict(others),
        "scenarios": list(wanted), "compare": compare,
        "good": found.versions[0], "bad": found.versions[-1], "releases": list(found.versions),
        "measured": [_measured_json(v, found.observed[v], compare) for v in found.versions
                     if v in found.observed],
        "changes": [_change_json(c, found, compare) for c in found.changes],
        "gaps": [dataclasses.asdict(g) for g in found.gaps],
        "stepped": [{"version": v, "reason": why} for v, why in found.stepped],
        "ruled_out": [{"version": v, "reason": why} for v, why in axis.ruled_out],
        "cells_run": ran, "cells_measured": len(found.observed), "grid_size": len(found.versions),
    }


def _measured_json(version: str, obs: Observation, compare: str) -> dict:
    return {"version": version, "cell_id": obs.cell.id, "source": "ran" if obs.ran else "recorded",
            "run_ids": list(obs.run_ids), "unusable": obs.unusable,
            "scenarios": {r.scenario: {"outcome": r.outcome.value, "signature": r.signature,
                                       "signatures": list(s)}
                          for r, s in zip(obs.records, obs.signatures)},
            "resolved": {d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS}}


def _change_json(change: Change, found: Search, compare: str) -> dict:
    before, after = found.observed[change.last], found.observed[change.first]
    return {"last_good": change.last, "first_bad": change.first, "unusable": list(change.unusable),
            "before": before.describe(compare), "after": after.describe(compare),
            "last_good_cell": before.cell.id, "first_bad_cell": after.cell.id,
            "repro": [r.repro for side in (before, after)
                      for r in _differing(before, after, compare, side)]}


def append_finding(path: Path, finding: Mapping) -> None:
    """Append one finding as one JSON line, under a lock (bisect.jsonl, explain.jsonl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(finding, sort_keys=True, ensure_ascii=False) + "\n")
        f.flush()


def read_findings(path: Path) -> list[dict]:
    """Every whole line of a findings file (``bisect.jsonl`` or ``explain.jsonl``)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line)) if line.strip() else None
    return out
