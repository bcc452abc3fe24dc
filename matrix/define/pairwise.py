"""Pairwise: a small set of cells that still shows every interaction of two values.

The full product of all axes is far too large to run (Python x pytest x pytest-asyncio x
plugin x playwright x coverage is tens of thousands of cells), while most failures are
caused by one or two versions together. So:

* the ``critical`` axes (callers use Python x pytest-asyncio x plugin) are crossed in full:
  every allowed combination of them is a cell;
* every other pair of values from two different axes appears in at least one cell;
* ``allowed`` vetoes combinations *while* cells are built, so a forbidden cell never
  costs a pair its coverage: the pair moves to another cell. A pair (or a critical
  combination) that no allowed cell can hold is reported, never silently dropped.

The construction is greedy in the style of AETG, without its randomness: each critical
combination becomes a cell whose other axes take, one axis at a time, the value that
covers most still-uncovered pairs (ties: the value with most uncovered pairs overall, then
the axis's own order). Pairs left over get extra cells: each is built from several
left-over pairs as seeds (the first few, in a fixed order) and the one covering most is
kept. Same input, same output: nothing depends on hashing or a random seed.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence

__all__ = ["Covering", "Pair", "cover", "covering_cells"]

Cell = dict[str, str]
#: Two (axis, value) settings, in the order the axes were given.
Pair = tuple[tuple[str, str], tuple[str, str]]
Allowed = Callable[[Mapping[str, str]], bool]
_SEEDS = 16  # candidate seeds per extra cell: better cells for a little more time


@dataclasses.dataclass(frozen=True, kw_only=True)
class Covering:
    """The cells, and what no allowed cell can contain."""

    cells: tuple[Cell, ...]
    uncoverable: tuple[Pair, ...] = ()  # pairs that only occur in vetoed cells
    excluded: tuple[Cell, ...] = ()  # critical combinations that only occur in vetoed cells


def covering_cells(
    axes: Mapping[str, Sequence[str]],
    critical: Sequence[str],
    allowed: Allowed | None = None,
) -> list[Cell]:
    """Cells covering the full product of ``critical`` axes and every other pair of values.

    ``allowed`` receives partial cells (only some axes set) and must return False only
    when no cell containing those settings can be allowed; it is what lets forbidden
    combinations be avoided during generation. See ``cover`` for what cannot be covered.
    """
    return list(cover(axes, critical, allowed).cells)


def cover(
    axes: Mapping[str, Sequence[str]],
    critical: Sequence[str] = (),
    allowed: Allowed | None = None,
    focus: Sequence[str] = (),
) -> Covering:
    """Like ``covering_cells``, also reporting uncoverable pairs and critical combinations.

    With ``focus``, only the pairs that involve one of those axes are to be covered (the
    other pairs are covered elsewhere, e.g. by another covering of the same axes).
    """
    space = _Space(axes, critical, allowed, focus)
    cells: list[Cell] = []
    excluded: list[Cell] = []
    for combo in itertools.product(*(space.values[a] for a in space.critical)):
        seed = dict(zip(space.critical, combo, strict=True))
        cell = space.complete(seed)
        if cell is None:
            excluded.append(space.ordered(seed))
        else:
            cells.append(space.take(cell))
    uncoverable = list(space.never)
    while space.uncovered:
        cell, dead = space.best_extra()
        for pair in dead:
            uncoverable.append(pair)
            space.drop(pair)
        if cell is not None:
            cells.append(space.take(cell))
    return Covering(cells=tuple(cells), uncoverable=tuple(uncoverable), excluded=tuple(excluded))


class _Space:
    """The axes, the pairs still to cover, and the memoised ``allowed`` predicate."""

    def __init__(
        self,
        axes: Mapping[str, Sequence[str]],
        critical: Sequence[str],
        allowed: Allowed | None,
        focus: Sequence[str] = (),
    ) -> None:
        self.names = list(axes)
        self.values = {name: list(dict.fromkeys(axes[name])) for name in self.names}
        self.critical = list(critical)
        self.focus = set(focus or self.names)
        _validate(self.names, self.values, self.critical)
        self.index = {name: i for i, name in enumerate(self.names)}
        self._allowed = allowed
        self._verdicts: dict[frozenset[tuple[str, str]], bool] = {}
        self.uncovered: dict[Pair, None] = {}
        self.pending: dict[tuple[str, str], int] = {}  # uncovered pairs per (axis, value)
        # the settings each (axis, value) still has to meet: ranking a value is then one
        # set intersection with the cell so far
        self.partners: dict[tuple[str, str], set[tuple[str, str]]] = {}
        # uncovered pairs per pair of axes, and seeds known to have an allowed cell: what
        # lets best_extra skip a seed that cannot beat the best cell found so far
        self.open: dict[tuple[str, str], int] = {}
        self.alive: set[Pair] = set()
        self.never: list[Pair] = []
        self._enumerate_pairs()

    def _enumerate_pairs(self) -> None:
        # Pairs of two critical axes are covered by the full product, so they are not tracked.
        for a, b in itertools.combinations(self.names, 2):
            if (a in self.critical and b in self.critical) or not {a, b} & self.focus:
                continue
            for pair in itertools.product(
                [(a, v) for v in self.values[a]], [(b, w) for w in self.values[b]]
            ):
                if self.ok(dict(pair)):
                    self.uncovered[pair] = None
                    self.open[a, b] = self.open.get((a, b), 0) + 1
                    for setting, other in (pair, pair[::-1]):
                        self.pending[setting] = self.pending.get(setting, 0) + 1
                        self.partners.setdefault(setting, set()).add(other)
                else:
                    self.never.append(pair)

    def ok(self, partial: Mapping[str, str]) -> bool:
        """``allowed`` for a partial cell, asked once per distinct partial cell."""
        if self._allowed is None:
            return True
        key = frozenset(partial.items())
        if key not in self._verdicts:
            self._verdicts[key] = bool(self._allowed(self.ordered(partial)))
        return self._verdicts[key]

    def ordered(self, partial: Mapping[str, str]) -> Cell:
        return {name: partial[name] for name in self.names if name in partial}

    def complete(self, seed: Mapping[str, str]) -> Cell | None:
        """An allowed full cell extending ``seed``, chosen greedily; None if none exists."""
        if not self.ok(seed):
            return None
        rest = [n for n in self.names if n not in seed]
        # Larger axes first (as in IPOG): they have the most pairs to place.
        rest.sort(key=lambda n: (-len(self.values[n]), self.index[n]))
        return self._extend(dict(seed), rest)

    def best_extra(self) -> tuple[Cell | None, list[Pair]]:
        """The best cell seeded by one of the first few uncovered pairs, and dead seeds.

        Trying several seeds (in insertion order, so deterministically) and keeping the
        cell that covers most is what AETG does with random candidates.
        """
        best: Cell | None = None
        best_gain = 0
        dead: list[Pair] = []
        for pair in itertools.islice(self.uncovered, _SEEDS):
            # whether a seed has an allowed cell never changes; one that has and cannot
            # cover more than the best so far would not be chosen: not built again
            if pair in self.alive and self.most(pair) <= best_gain:
                continue
            cell = self.complete(dict(pair))
            if cell is None:
                dead.append(pair)
                continue
            self.alive.add(pair)
            gain = self.gain(cell)
            if gain > best_gain:
                best, best_gain = cell, gain
        return best, dead

    def most(self, seed: Pair) -> int:
        """An upper bound of :meth:`gain` for any cell holding ``seed``: one pair per pair
        of axes, counted where an uncovered pair there can still be in such a cell."""
        fixed = dict(seed)
        count = 0
        for (a, b), still in self.open.items():
            if not still:
                continue
            if a in fixed and b in fixed:
                count += 1  # the seed itself, uncovered
            elif a in fixed or b in fixed:
                one, axis = ((a, fixed[a]), b) if a in fixed else ((b, fixed[b]), a)
                count += any(other[0] == axis for other in self.partners.get(one, ()))
            else:
                count += 1
        return count

    def gain(self, cell: Cell) -> int:
        """How many uncovered pairs ``cell`` would cover."""
        pairs = itertools.combinations(cell.items(), 2)
        return sum(self.key(one, two) in self.uncovered for one, two in pairs)

    def _extend(self, cell: Cell, rest: list[str]) -> Cell | None:
        # Depth-first, best value first: the first full cell found is the greedy choice
        # whenever the greedy choice is allowed; backtracking only happens around vetoes.
        if not rest:
            return self.ordered(cell)
        axis, later = rest[0], rest[1:]
        for value in self._ranked(cell, axis):
            trial = {**cell, axis: value}
            if self.ok(trial):
                found = self._extend(trial, later)
                if found is not None:
                    return found
        return None

    def _ranked(self, cell: Cell, axis: str) -> list[str]:
        """Values of ``axis``, most newly covered pairs first, then most pending overall."""

        settings, empty = set(cell.items()), set()
        partners, pending = self.partners, self.pending
        scored = sorted(
            (
                -len(settings & partners.get((axis, value), empty)),
                -pending.get((axis, value), 0),
                position,
                value,
            )
            for position, value in enumerate(self.values[axis])
        )
        return [value for *_, value in scored]

    def key(self, one: tuple[str, str], two: tuple[str, str]) -> Pair:
        return (one, two) if self.index[one[0]] < self.index[two[0]] else (two, one)

    def take(self, cell: Cell) -> Cell:
        """Record ``cell`` as chosen: every pair in it is now covered."""
        for one, two in itertools.combinations(cell.items(), 2):
            pair = self.key(one, two)
            if pair in self.uncovered:
                self.drop(pair)
        return cell

    def drop(self, pair: Pair) -> None:
        del self.uncovered[pair]
        self.open[pair[0][0], pair[1][0]] -= 1
        for setting, other in (pair, pair[::-1]):
            self.pending[setting] -= 1
            self.partners[setting].discard(other)


def _validate(names: list[str], values: Mapping[str, list[str]], critical: list[str]) -> None:
    empty = [n for n in names if not values[n]]
    if empty:
        raise ValueError(f"axis {empty[0]!r} has no values; every axis needs at least one")
    unknown = [c for c in critical if c not in values]
    if unknown:
        raise ValueError(f"critical axis {unknown[0]!r} is not one of the axes {names}")
    if len(set(critical)) != len(critical):
        raise ValueError(f"critical axes {critical} name an axis twice")
