"""Bisection: the releases along one axis where a cell's behaviour changes (the search).

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

The command (:mod:`matrix.search.bisect`) measures cells through the shared bench
(:mod:`matrix.search.trials`); the report and the findings line it appends to
``<results>/bisect.jsonl`` are :mod:`matrix.search.bisect_report`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from packaging.version import Version

from matrix.define import releases, selection
from matrix.define.cell import DISTRIBUTIONS, Cell
from matrix.errors import ConfigError
from matrix.search.trials import Observation, describe_pins

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


def hint_at(
    axis: str, version: str, python: str, others: Mapping[str, str], snapshot: releases.Snapshot
) -> tuple:
    """What the resolver is expected to pick for the cell at ``version`` of ``axis``
    (see :func:`expected_resolution`)."""
    cell = cell_at(axis, version, python, others)
    return expected_resolution(
        cell.python,
        {d: v for d, v in cell.pins if d != axis} | ({axis: version} if axis != "python" else {}),
        snapshot,
    )


def cell_at(axis: str, version: str, python: str, others: Mapping[str, str]) -> Cell:
    """The cell at ``version`` of ``axis``, the other pins kept."""
    if axis == "python":
        return Cell.make(version, dict(others))
    return Cell.make(python, {**others, axis: version})
