"""Which axes matter: the fewest axes on which every pair of measured cells that agree
has the same verdict of one part (found greedily), and for each other axis how many
measured pairs differ in it and never change a verdict. The engine
(:mod:`matrix.results.answers`) infers across the axes that do not matter only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matrix.results.answer_model import value_of
from matrix.results.cells import CellResult

#: The order in which axes are tried when looking for the ones that matter: the loop
#: implementation first (pytest-asyncio), then what sits beside it.
SEARCH_ORDER = ("pytest-asyncio", "pytest", "python", "plugin", "playwright", "pytest-cov")


def mattering(
    found: Sequence[CellResult],
    part: str = "browser",
    order: Sequence[str] = SEARCH_ORDER,
    by_plugin: bool = True,
) -> tuple[tuple[str, ...], dict[str, int]]:
    """The axes that matter to one part's verdicts (fewest, greedy, see module docstring),
    and for every other axis the number of measured pairs that differ in it and agree on
    those. An axis that no pair ever varied is not known not to matter: it counts."""
    matter: list[str] = []
    while _clashes(found, matter, part, by_plugin):
        left = [a for a in order if a not in matter]
        if not left:
            break
        matter.append(
            min(
                left, key=lambda a: (_clashes(found, matter + [a], part, by_plugin), order.index(a))
            )
        )
    pairs = {a: _pairs_differing(found, matter, a, by_plugin) for a in order if a not in matter}
    for axis, count in list(pairs.items()):
        if count == 0 and len({value_of(c, axis) for c in found}) > 1:
            matter.append(axis)
            del pairs[axis]
    return tuple(a for a in order if a in matter), pairs


def _groups(
    found: Sequence[CellResult], axes: Sequence[str], by_plugin: bool
) -> dict[tuple, list[CellResult]]:
    groups: dict[tuple, list[CellResult]] = {}
    for cell in found:
        key = ((cell.family,) if by_plugin else ()) + tuple(value_of(cell, a) for a in axes)
        groups.setdefault(key, []).append(cell)
    return groups


def _clashes(found: Sequence[CellResult], axes: Sequence[str], part: str, by_plugin: bool) -> int:
    """Pairs of cells equal on ``axes`` (and the plugin, for the browser part) whose
    verdicts of the part differ."""
    return sum(
        _unequal_pairs(group, lambda c: c.part(part))
        for group in _groups(found, axes, by_plugin).values()
    )


def _pairs_differing(
    found: Sequence[CellResult], axes: Sequence[str], axis: str, by_plugin: bool
) -> int:
    """Pairs of cells equal on ``axes`` that differ in ``axis``."""
    return sum(
        _unequal_pairs(group, lambda c: value_of(c, axis))
        for group in _groups(found, axes, by_plugin).values()
    )


def _unequal_pairs(group: Sequence[CellResult], key) -> int:
    counts: dict[Any, int] = {}
    for cell in group:
        counts[key(cell)] = counts.get(key(cell), 0) + 1
    n = len(group)
    return (n * n - sum(k * k for k in counts.values())) // 2
