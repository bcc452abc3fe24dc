"""Axis selectors and declared-metadata pruning, against a trimmed real snapshot."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from matrix.define import releases, selection
from matrix.define.releases import Dependency, Release, Snapshot
from matrix.define.selection import declared_incompatible, expand


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    # matrix/releases.json of 2026-11-25, with playwright and coverage trimmed.
    return releases.load(Path(__file__).parent / "data" / "snapshot-2026-11-25.json")


# --------------------------------------------------------------------------- expand


@pytest.mark.parametrize(
    ("dist", "value", "expected"),
    [
        ("pytest", "8.4.2", ["8.4.2"]),
        ("pytest", " 8.4.2 ", ["8.4.2"]),
        ("pytest", "8.4.99", ["8.4.99"]),  # not in the snapshot: allowed, the resolver decides
        ("pytest", "8.4", ["8.4.0"]),  # PEP 440 equal to a release: the snapshot's spelling
        ("pytest", "8.0.0rc1", ["8.0.0rc1"]),  # a pre-release named exactly
        ("pytest-asyncio", "1.4.1-post1", ["1.4.1.post1"]),  # spelled as the snapshot spells it
        ("pytest", "latest", ["9.2.0"]),
        ("pytest-asyncio", "newest:3", ["1.4.1", "1.4.1.post1", "1.5.0"]),
        ("pytest", "newest:3:>=8,<9", ["8.4.0", "8.4.1", "8.4.2"]),
        (
            "pytest-playwright-asyncio",
            "all",
            ["0.6.0", "0.6.1", "0.6.2", "0.7.0", "0.7.1", "0.7.2", "0.8.0", "0.9.0", "0.10.0"],
        ),
        ("pytest-playwright", "all:>=0.7", ["0.7.0", "0.7.1", "0.7.2", "0.8.0", "0.9.0", "0.10.0"]),
        (
            "pytest-asyncio",
            "minors:>=0.21,<2",
            [
                "0.21.2",
                "0.23.8",
                "0.24.0",
                "0.25.3",
                "0.26.0",
                "1.0.0",
                "1.1.1",
                "1.2.0",
                "1.3.0",
                "1.4.1.post1",
                "1.5.0",
            ],
        ),
        (
            "pytest",
            "minors",
            [
                "7.2.2",
                "7.3.2",
                "7.4.4",
                "8.0.2",
                "8.1.2",
                "8.2.2",
                "8.3.5",
                "8.4.2",
                "9.0.3",
                "9.1.1",
                "9.2.0",
            ],
        ),
    ],
)
def test_expand(snap: Snapshot, dist: str, value: str, expected: list[str]) -> None:
    assert expand(dist, value, snap) == expected


def test_selections_exclude_pre_releases(snap: Snapshot) -> None:
    # 8.0.0rc1/rc2 are in the snapshot; no selector may pick them.
    assert not any("rc" in v for v in expand("pytest", "all:>=8.0.0rc1,<8.1", snap))
    assert expand("pytest", "all:>=8.0.0rc1,<8.1", snap) == ["8.0.0", "8.0.1", "8.0.2"]
    assert expand("coverage", "latest", snap) == ["7.17.4"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8.4.x", "neither a version nor a selector"),
        ("newest", "newest:N"),
        ("newest:0", "newest:N"),
        ("newest:three", "newest:N"),
        ("minors:>>8", "not a version specifier"),
        ("latest:>=8", "takes no argument"),
        ("all:>=99", "selects no release"),
    ],
)
def test_expand_rejects_with_a_sentence(snap: Snapshot, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand("pytest", value, snap)


def test_expand_unknown_distribution(snap: Snapshot) -> None:
    with pytest.raises(ValueError, match="no releases of greenlet"):
        expand("greenlet", "latest", snap)
    assert expand("greenlet", "3.2.4", snap) == ["3.2.4"]


# --------------------------------------------------------------------------- pruning


def test_python_too_old_for_pytest_9(snap: Snapshot) -> None:
    assert declared_incompatible("3.9", {"pytest": "9.0.0"}, snap) == (
        "pytest 9.0.0 requires Python >=3.10; the cell uses Python 3.9"
    )


def test_pytest_7_with_the_async_plugin_is_pruned_through_pytest_asyncio(snap: Snapshot) -> None:
    # The plugin accepts pytest>=6.2.4, but every pytest-asyncio it accepts needs pytest>=8.2.
    reason = declared_incompatible(
        "3.13", {"pytest": "7.4.4", "pytest-playwright-asyncio": "0.7.1"}, snap
    )
    assert reason == (
        "pytest-playwright-asyncio 0.7.1 requires pytest-asyncio>=0.24.0, and no such release "
        "of pytest-asyncio fits the cell (Python 3.13, pytest 7.4.4, "
        "pytest-playwright-asyncio 0.7.1): pytest-asyncio 0.24.0 requires pytest>=8.2,<9 ... "
        "pytest-asyncio 1.5.0 requires pytest>=8.4"
    )


def test_direct_conflict_names_both_sides(snap: Snapshot) -> None:
    assert declared_incompatible("3.12", {"pytest": "7.4.4", "pytest-asyncio": "1.0.0"}, snap) == (
        "pytest-asyncio 1.0.0 requires pytest>=8.2,<9; the cell pins pytest 7.4.4"
    )


def test_both_plugins(snap: Snapshot) -> None:
    pins = {"pytest-playwright": "0.10.0", "pytest-playwright-asyncio": "0.10.0"}
    assert declared_incompatible("3.12", pins, snap) == (
        "the two Playwright plugins cannot be installed together "
        "(pytest-playwright 0.10.0 and pytest-playwright-asyncio 0.10.0)"
    )


def test_two_pins_that_leave_no_pytest(snap: Snapshot) -> None:
    reason = declared_incompatible(
        "3.12", {"pytest-playwright": "0.4.0", "pytest-asyncio": "1.0.0"}, snap
    )
    assert reason == (
        "pytest-asyncio 1.0.0 requires pytest>=8.2,<9 and pytest-playwright 0.4.0 requires "
        "pytest>=6.2.4,<8.0.0, and no release of pytest in the snapshot satisfies all of them"
    )


def test_transitive_python_limit(snap: Snapshot) -> None:
    # pytest 9 on Python 3.9 is impossible anyway; with pytest 8.4.2 the plugin still
    # finds pytest-asyncio 1.2.0 (Requires-Python >=3.9, pytest<9): possible.
    assert (
        declared_incompatible(
            "3.9", {"pytest": "8.4.2", "pytest-playwright-asyncio": "0.7.1"}, snap
        )
        is None
    )
    # pytest-cov 7 needs coverage>=7.10.6; on 3.9 coverage 7.10.x (>=3.9) still fits.
    assert declared_incompatible("3.9", {"pytest-cov": "7.1.0"}, snap) is None


@pytest.mark.parametrize(
    ("python", "pins"),
    [
        ("3.13", {}),
        ("3.13", {"pytest": "9.2.0", "pytest-asyncio": "1.5.0", "pytest-playwright": "0.10.0"}),
        ("3.10", {"pytest": "9.0.0", "pytest-asyncio": "0.21.0"}),  # 0.21 has no upper bound
        ("3.12", {"pytest": "8.3.5", "pytest-playwright-asyncio": "0.7.1"}),
        ("3.12", {"pytest": "8.3.99"}),  # not in the snapshot: nothing to conclude
        ("3.15", {"pytest": "9.2.0", "playwright": "1.65.2"}),
    ],
)
def test_possible_cells(snap: Snapshot, python: str, pins: dict[str, str]) -> None:
    assert declared_incompatible(python, pins, snap) is None


def test_malformed_pin(snap: Snapshot) -> None:
    with pytest.raises(ValueError, match="not a version"):
        declared_incompatible("3.12", {"pytest": "latest"}, snap)


def _snapshot(**distributions: list[Release]) -> Snapshot:
    return Snapshot(
        taken_at="-",
        since="-",
        index="-",
        distributions={name.replace("_", "-"): tuple(rows) for name, rows in distributions.items()},
    )


def _release(version: str, *requires: str, requires_python: str | None = None) -> Release:
    deps = tuple(Dependency.from_json(r) for r in requires)
    return Release(version=version, uploaded="-", requires_python=requires_python, requires=deps)


def test_python_markers_are_evaluated_for_the_cell() -> None:
    snap = _snapshot(
        pytest=[_release("7.0.0"), _release("8.0.0")],
        pytest_asyncio=[_release("2.0", 'pytest>=8; python_version >= "3.12"')],
    )
    pins = {"pytest": "7.0.0", "pytest-asyncio": "2.0"}
    assert declared_incompatible("3.11", pins, snap) is None
    assert "requires pytest>=8" in declared_incompatible("3.12", pins, snap)


def test_no_prune_when_older_releases_might_fit() -> None:
    # The plugin accepts pytest-asyncio<1; the snapshot starts at 0.5, and every release
    # in it needs pytest 8, but an older pytest-asyncio (not in the snapshot) might not.
    snap = _snapshot(
        pytest=[_release("7.0.0"), _release("8.0.0")],
        pytest_asyncio=[_release("0.5", "pytest>=8"), _release("0.9", "pytest>=8")],
        pytest_playwright_asyncio=[_release("1.0", "pytest-asyncio<1")],
    )
    pins = {"pytest": "7.0.0", "pytest-playwright-asyncio": "1.0"}
    assert declared_incompatible("3.12", pins, snap) is None
    floored = _snapshot(  # the same, but the plugin's demand starts at the snapshot's floor
        pytest=[_release("7.0.0"), _release("8.0.0")],
        pytest_asyncio=[_release("0.5", "pytest>=8"), _release("0.9", "pytest>=8")],
        pytest_playwright_asyncio=[_release("1.0", "pytest-asyncio>=0.5")],
    )
    assert declared_incompatible("3.12", pins, floored) is not None


def test_unknown_metadata_never_prunes() -> None:
    unknown = Release(version="0.9", uploaded="-", requires_python=None, requires=None)
    snap = _snapshot(
        pytest=[_release("7.0.0")],
        pytest_asyncio=[_release("0.5", "pytest>=8"), unknown],
        pytest_playwright_asyncio=[_release("1.0", "pytest-asyncio>=0.5")],
    )
    pins = {"pytest": "7.0.0", "pytest-playwright-asyncio": "1.0"}
    assert declared_incompatible("3.12", pins, snap) is None


def test_selectors_are_documented() -> None:
    for selector in selection.SELECTORS:
        assert selector.split("[")[0].split(":")[0] in selection.__doc__


def test_the_planning_fast_path_agrees_with_the_reasons(snap: Snapshot) -> None:
    # installable() answers what declared_incompatible() explains, without the sentence;
    # over every combination of a few releases per distribution, with and without pins.
    choices = {
        "pytest": ["7.4.4", "8.3.5", "9.0.1", None],
        "pytest-asyncio": ["0.21.2", "0.23.8", "0.24.0", "1.3.0", None],
        "pytest-playwright": ["0.7.1", None],
        "pytest-playwright-asyncio": ["0.7.1", "0.10.0", None],
    }
    answers = []
    for python in ("3.9", "3.13", "3"):
        for combo in itertools.product(*choices.values()):
            pins = {d: v for d, v in zip(choices, combo, strict=True) if v}
            explained = declared_incompatible(python, pins, snap) is None
            assert selection.installable(python, pins, snap) is explained, (python, pins)
            answers.append(explained)
    assert len(answers) == 3 * 4 * 5 * 2 * 3 and 0 < sum(answers) < len(answers)
