"""Pairwise covering sets, checked against brute force over the full product."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping

import pytest

from matrix.define.pairwise import Covering, cover, covering_cells

AXES = {
    "python": ["3.9", "3.12", "3.14"],
    "pytest": ["7.4.4", "8.4.2", "9.2.0"],
    "pytest-asyncio": ["0.21.2", "0.24.0", "1.5.0"],
    "plugin": ["sync", "async", "none"],
    "playwright": ["1.48.0", "1.60.0", "1.65.2"],
    "coverage": ["none", "7.10.7", "7.17.4"],
}
CRITICAL = ["python", "pytest-asyncio", "plugin"]

#: Forbidden sub-combinations; a cell is allowed unless it contains one. That makes the
#: predicate well-behaved on partial cells, as ``allowed`` must be.
FORBIDDEN = [
    {"python": "3.9", "pytest": "9.2.0"},
    {"python": "3.9", "pytest-asyncio": "1.5.0"},
    {"python": "3.9", "playwright": "1.65.2"},
    {"python": "3.9", "coverage": "7.17.4"},
    {"pytest-asyncio": "1.5.0", "pytest": "7.4.4"},
    {"pytest-asyncio": "0.24.0", "pytest": "7.4.4"},
    {"pytest-asyncio": "0.24.0", "pytest": "9.2.0"},
    {"plugin": "async", "pytest-asyncio": "0.21.2"},
    {"plugin": "async", "pytest": "7.4.4"},
    {"python": "3.14", "playwright": "1.48.0"},
    {"python": "3.14", "coverage": "none", "plugin": "none"},  # a triple, for good measure
]


def allowed(cell: Mapping[str, str]) -> bool:
    return not any(all(cell.get(k) == v for k, v in rule.items()) for rule in FORBIDDEN)


def _pairs(
    cell: Mapping[str, str], critical: list[str]
) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return {
        (one, two)
        for one, two in itertools.combinations(cell.items(), 2)
        if not (one[0] in critical and two[0] in critical)
    }


def _product(axes: Mapping[str, list[str]]) -> list[dict[str, str]]:
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _check(
    axes: Mapping[str, list[str]], critical: list[str], result: Covering, ok=allowed
) -> None:
    """Brute force: what some allowed cell of the full product can hold must be covered."""
    possible = [c for c in _product(axes) if ok(c)]
    coverable = set().union(*(_pairs(c, critical) for c in possible))
    everything = set().union(*(_pairs(c, critical) for c in _product(axes)))
    covered = set().union(*(_pairs(c, critical) for c in result.cells))
    assert all(ok(c) and list(c) == list(axes) for c in result.cells)
    assert covered == coverable
    assert set(result.uncoverable) == everything - coverable

    def crit(cell: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(cell[a] for a in critical)

    assert {crit(c) for c in result.cells} == {crit(c) for c in possible}
    all_critical = set(itertools.product(*(axes[a] for a in critical)))
    assert {crit(c) for c in result.excluded} == all_critical - {crit(c) for c in possible}


def test_without_vetoes_every_pair_and_the_critical_product_are_there() -> None:
    result = cover(AXES, CRITICAL)
    _check(AXES, CRITICAL, result, ok=lambda cell: True)
    assert result.uncoverable == () and result.excluded == ()
    assert len(result.cells) == 27  # the critical product already holds every other pair


def test_vetoes_move_pairs_instead_of_losing_them() -> None:
    result = cover(AXES, CRITICAL, allowed)
    _check(AXES, CRITICAL, result)
    assert (("python", "3.9"), ("pytest", "9.2.0")) in result.uncoverable
    assert {"python": "3.9", "pytest-asyncio": "1.5.0", "plugin": "sync"} in result.excluded
    assert len(result.cells) < len(_product(AXES)) / 20


def test_a_veto_only_visible_on_full_cells_is_reported() -> None:
    # 3.14 with pytest-asyncio 0.21.2 is allowed as a pair, but every way to complete it
    # hits a forbidden combination: the critical combination must be reported excluded.
    axes = {
        "python": ["3.12", "3.14"],
        "pytest-asyncio": ["0.21.2", "1.5.0"],
        "pytest": ["7.4.4", "8.4.2"],
    }
    rules = [
        {"python": "3.14", "pytest": "7.4.4"},
        {"pytest-asyncio": "0.21.2", "pytest": "8.4.2"},
    ]

    def ok(cell: Mapping[str, str]) -> bool:
        return not any(all(cell.get(k) == v for k, v in r.items()) for r in rules)

    result = cover(axes, ["python", "pytest-asyncio"], ok)
    _check(axes, ["python", "pytest-asyncio"], result, ok=ok)
    assert result.excluded == ({"python": "3.14", "pytest-asyncio": "0.21.2"},)


def test_pairwise_without_critical_axes_is_small() -> None:
    axes = {name: ["1", "2", "3"] for name in "abcd"}
    cells = covering_cells(axes, [])
    _check(axes, [], cover(axes, []), ok=lambda cell: True)
    assert len(cells) == 9  # the optimum for four axes of three values


@pytest.mark.parametrize("sizes", [(3, 4, 2, 5, 3, 2), (4,) * 8, (2,) * 10, (5, 1, 5)])
def test_mixed_sizes_are_covered(sizes: tuple[int, ...]) -> None:
    axes = {f"x{i}": [f"v{j}" for j in range(n)] for i, n in enumerate(sizes)}
    result = cover(axes)
    covered = set().union(*(_pairs(c, []) for c in result.cells))
    settings = [[(a, v) for v in values] for a, values in axes.items()]
    wanted = {
        pair
        for one, two in itertools.combinations(settings, 2)
        for pair in itertools.product(one, two)
    }
    assert covered == wanted


def test_output_is_stable() -> None:
    # Fixed expected output: a change here means plans (and cell ids) would change too.
    axes = {
        "python": ["3.9", "3.13"],
        "pytest": ["7.4.4", "8.4.2", "9.2.0"],
        "plugin": ["sync", "async"],
        "cov": ["none", "7.1.0"],
    }

    def veto(cell: Mapping[str, str]) -> bool:
        return not (
            (cell.get("python") == "3.9" and cell.get("pytest") == "9.2.0")
            or (cell.get("plugin") == "async" and cell.get("pytest") == "7.4.4")
        )

    expected = [
        ("3.9", "8.4.2", "sync", "none"),
        ("3.9", "8.4.2", "async", "7.1.0"),
        ("3.13", "7.4.4", "sync", "7.1.0"),
        ("3.13", "9.2.0", "async", "none"),
        ("3.9", "7.4.4", "sync", "none"),
        ("3.13", "9.2.0", "sync", "7.1.0"),
        ("3.13", "8.4.2", "sync", "none"),
    ]
    for _ in range(3):
        cells = covering_cells(axes, ["python", "plugin"], veto)
        assert [tuple(c.values()) for c in cells] == expected


def test_larger_output_is_stable_across_runs() -> None:
    # Each pytest run gets its own str-hash seed, so a fixed digest here catches any
    # dependence on set or hash order (checked under PYTHONHASHSEED=0..3 when written).
    cells = covering_cells(AXES, CRITICAL, allowed)
    digest = hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]
    assert digest == "1d228867990c9809"


def test_allowed_is_asked_once_per_partial_cell() -> None:
    seen: list[tuple[tuple[str, str], ...]] = []

    def counting(cell: Mapping[str, str]) -> bool:
        seen.append(tuple(sorted(cell.items())))
        return allowed(cell)

    cover(AXES, CRITICAL, counting)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("axes", "critical", "message"),
    [
        ({"a": []}, [], "has no values"),
        ({"a": ["1"]}, ["b"], "not one of the axes"),
        ({"a": ["1"]}, ["a", "a"], "twice"),
    ],
)
def test_bad_input(axes: dict[str, list[str]], critical: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        covering_cells(axes, critical)


def test_duplicate_values_count_once() -> None:
    assert covering_cells({"a": ["1", "1"], "b": ["x"]}, ["a"]) == [{"a": "1", "b": "x"}]


def test_focus_covers_the_pairs_of_its_axis_with_fewer_cells() -> None:
    # What the variants' covering does: the pairs of two other axes are another
    # covering's to show, so only the pairs with the focus axis are placed.
    focused = cover(AXES, [], allowed, focus=["plugin"])
    possible = [c for c in _product(AXES) if allowed(c)]
    wanted = {p for c in possible for p in _pairs(c, []) if "plugin" in (p[0][0], p[1][0])}
    covered = {p for c in focused.cells for p in _pairs(c, [])}
    assert wanted <= covered
    assert all(allowed(c) for c in focused.cells)
    assert len(focused.cells) < len(cover(AXES, [], allowed).cells)


def test_seeds_skipped_because_they_cannot_win_change_no_cell(monkeypatch) -> None:
    # best_extra skips a seed whose best possible gain cannot beat the best cell so far;
    # building every seed instead must give the very same cells.
    from matrix.define import pairwise

    quick = [cover(AXES, CRITICAL, allowed), cover(AXES, [], allowed, focus=["plugin"])]
    monkeypatch.setattr(pairwise._Space, "most", lambda self, seed: 10**9)
    slow = [cover(AXES, CRITICAL, allowed), cover(AXES, [], allowed, focus=["plugin"])]
    assert quick == slow
