"""Explain: the changes tried, the search order, the budget, and the ranking.

The search is tested with a fake bench (``FakeBench``) instead of real cells. It answers
from a recorded table: ``tests/data/explain-reported.jsonl`` holds the records of a real
``explain`` run on the reported project's versions (each with its signature set, read from
its JUnit XML, added as ``signatures``); the other tests build small tables by hand. The
fake separates what is "recorded" (free, ``lookup``) from what must be "run" (``run``,
counted against the budget); a cell not in its table is answered as unresolvable.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from matrix.define import releases
from matrix.define.cell import Cell
from matrix.results.record import Counts, Outcome, Record
from matrix.search import explain, explain_report, explanation, trials
from matrix.search.explanation import Step
from matrix.search.trials import Observation

REPORTED = Cell.make(
    "3.13",
    {
        "pytest": "8.4.2",
        "pytest-asyncio": "0.23.0",
        "pytest-playwright": "0.7.1",
        "playwright": "1.49.1",
        "pytest-cov": "7.0.0",
    },
)
SCENARIOS = ("control", "e2e-first", "e2e-last", "isolated")


@pytest.fixture(scope="module")
def snapshot() -> releases.Snapshot:
    return releases.load()


def rec(
    cell: Cell,
    scenario: str,
    outcome: str = "pass",
    signature: str | None = None,
    run_id: str = "r1",
) -> Record:
    return Record(
        run_id=run_id,
        cell_id=cell.id,
        python="3.13.0",
        requested=cell.requested,
        resolved=dict(cell.pins),
        probe=cell.probe,
        scenario=scenario,
        outcome=Outcome(outcome),
        signature=signature,
        message=signature,
        tests=Counts(),
        duration_s=1.0,
        started_at="2026-11-25T00:00:00Z",
        repro=f"nox -s 'cell({cell.id})' -- --scenario {scenario}",
        log=None,
    )


def seen(cell: Cell, **outcomes: str) -> Observation:
    """An observation: ``e2e_first="bug:loop-already-running"`` style keywords."""
    records = []
    for name, text in outcomes.items():
        outcome, _, sig = text.partition(":")
        records.append(rec(cell, name.replace("_", "-"), outcome, sig or None))
    return Observation(
        cell=cell,
        records=tuple(records),
        signatures=tuple((r.signature,) if r.signature else () for r in records),
    )


class FakeBench:
    """Answers from ``table`` (cell id -> observation); ``recorded`` ids are free."""

    def __init__(
        self, table: dict[str, Observation], recorded: set[str] = frozenset(), wanted=SCENARIOS
    ) -> None:
        self.table, self.recorded, self.wanted = table, set(recorded), tuple(wanted)
        self.ran, self.runs, self.lookups = 0, [], []

    def lookup(self, cell: Cell, *, partial: bool = False) -> Observation | None:
        self.lookups.append(cell.id)
        return self.table.get(cell.id) if cell.id in self.recorded else None

    def run(self, cell: Cell) -> Observation:
        self.ran += 1
        self.runs.append(cell.id)
        self.recorded.add(cell.id)
        if cell.id in self.table:
            return dataclasses.replace(self.table[cell.id], ran=True)
        records = tuple(
            rec(cell, s, "unresolvable", "unresolvable") for s in ("control", "e2e-first")
        )
        return Observation(cell=cell, records=records, signatures=((), ()), ran=True)

    def recorded_cells(self) -> list[Cell]:
        return [o.cell for i, o in self.table.items() if i in self.recorded]


def reported_table(path: Path) -> dict[str, Observation]:
    """The real explain run: cell id -> observation (records in run order)."""
    rows: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        data = json.loads(line)
        rows.setdefault(data["cell_id"], []).append(data)
    table = {}
    for cell_id, datas in rows.items():
        requested = dict(datas[0]["requested"])
        cell = Cell.make(requested.pop("python"), requested)
        assert cell.id == cell_id
        table[cell_id] = Observation(
            cell=cell,
            records=tuple(Record.from_json(d) for d in datas),
            signatures=tuple(tuple(d["signatures"]) for d in datas),
        )
    return table


# --------------------------------------------------------------------------- the changes


def test_single_changes_of_the_reported_versions_go_smallest_first_with_no_code_change_first(
    snapshot,
) -> None:
    changes = explain.single_changes(REPORTED, snapshot)
    texts = [c.text for c in changes]
    assert texts[:3] == [
        "pytest-asyncio 0.23.0 -> 0.23.8",
        "pytest-asyncio 0.23.0 -> 0.24.0",
        "pytest-asyncio 0.23.0 -> 0.21.2",
    ]  # nearest first
    assert [c.size for c in changes] == sorted(c.size for c in changes)
    swap = next(c for c in changes if c.needs == explanation.NEEDS["pytest-playwright-asyncio"])
    assert swap.text == (
        "pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; "
        "pytest-asyncio 0.23.0 -> 0.24.0"
    )  # the oldest it allows: 2 changes
    drop = next(c for c in changes if c.needs == explanation.NEEDS[None])
    assert drop.text.startswith("drop pytest-playwright 0.7.1 (Playwright's async API")
    assert texts.index(drop.text) > max(
        i for i, c in enumerate(changes) if c.size == 1 and not c.needs
    )
    assert "drop pytest-cov 7.0.0" in texts and "Python 3.13 -> 3.12" in texts
    assert (
        next(
            c for c in changes if c.text == "pytest-playwright 0.7.1 -> pytest-playwright 0.8.0"
        ).needs
        is None
    )  # another release of the same plugin changes no code
    assert len(set(texts)) == len(texts)


def test_nearby_releases_are_the_patch_the_next_and_previous_minor_then_the_newest(
    snapshot,
) -> None:
    assert explain.nearby("pytest-asyncio", "1.1.0", snapshot) == [
        (1, "1.1.1"),
        (1, "1.2.0"),
        (1, "1.0.0"),
        (2, "1.5.0"),
    ]
    assert explain.nearby("pytest-asyncio", "1.5.0", snapshot) == [(1, "1.4.1.post1")]


def test_steps_between_two_cells_apply_back_to_the_second() -> None:
    other = Cell.make(
        "3.12",
        {
            "pytest": "8.4.2",
            "pytest-asyncio": "0.24.0",
            "pytest-playwright-asyncio": "0.7.1",
            "playwright": "1.49.1",
        },
    )
    steps = explain.steps_between(REPORTED, other)
    assert steps == (
        Step(axis="python", old="3.13", new="3.12"),
        Step(axis="plugin", old="pytest-playwright 0.7.1", new="pytest-playwright-asyncio 0.7.1"),
        Step(axis="pytest-asyncio", old="0.23.0", new="0.24.0"),
        Step(axis="pytest-cov", old="7.0.0", new=None),
    )
    assert explain.apply(REPORTED, steps) == other


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        ({"control": "pass", "e2e_first": "pass", "e2e_last": "pass", "isolated": "pass"}, "fix"),
        (
            {"control": "pass", "e2e_first": "bug:x", "e2e_last": "pass", "isolated": "pass"},
            "workaround",
        ),
        (
            {"control": "fail:y", "e2e_first": "bug:x", "e2e_last": "fail:y", "isolated": "fail:y"},
            "fails",
        ),
        (
            {"control": "unresolvable:unresolvable", "e2e_first": "unresolvable:unresolvable"},
            "unusable",
        ),
        ({"control": "pass"}, "incomplete"),
    ],
)
def test_a_cell_is_a_fix_a_workaround_or_neither(outcomes, verdict) -> None:
    assert explanation.judge(seen(REPORTED, **outcomes)) == verdict


# --------------------------------------------------------------------------- the search


def test_on_the_reported_versions_it_stops_after_the_async_plugin_and_one_workaround(
    data, snapshot
) -> None:
    table = reported_table(data / "explain-reported.jsonl")
    bench = FakeBench(table, wanted=explanation.DEFAULT_SCENARIOS)
    result = explain.explain(REPORTED, bench, snapshot, budget=12)
    assert result.start.verdict == "fails"
    listed = result.listed()
    assert [(t.verdict, t.candidate.text) for t in listed] == [
        (
            "fix",
            "pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; "
            "pytest-asyncio 0.23.0 -> 0.24.0",
        ),
        ("workaround", "pytest-asyncio 0.23.0 -> 0.23.8"),
    ]
    assert listed[0].candidate.needs.startswith("needs the browser tests rewritten as async")
    # the start, the nearest release that fixes the control, no plugin, the other plugin:
    assert bench.runs == [
        REPORTED.id,
        f"{REPORTED.id}".replace("0.23.0", "0.23.8"),
        "py3.13-pytest8.4.2-asyncio0.23.0-pw1.49.1-cov7.0.0",
        plugin_fix(REPORTED, snapshot).id,
    ]
    ruled = [t for t in result.trials if t.reason and t.reason.startswith(explanation.MECHANISM)]
    assert len(ruled) > 10 and all(t.observation is None for t in ruled)  # the 10 the old one ran
    text = explain_report.report(result)
    assert "fixes with no code change: none can exist here" in text


def test_the_reported_combination_gives_both_code_fixes_from_three_cells_and_none_when_recorded(
    snapshot,
) -> None:
    """Python 3.13, pytest 8.4.2, pytest-asyncio 1.3.0, pytest-playwright 0.7.1, playwright 1.56.0."""
    start = Cell.make(
        "3.13",
        {
            "pytest": "8.4.2",
            "pytest-asyncio": "1.3.0",
            "pytest-playwright": "0.7.1",
            "playwright": "1.56.0",
        },
    )
    native = Cell.make("3.13", {d: v for d, v in start.pin_map.items() if d != "pytest-playwright"})
    swap = Cell.make("3.13", {**native.pin_map, "pytest-playwright-asyncio": "0.7.1"})
    table = {
        start.id: seen(
            start,
            control="pass",
            e2e_first="bug:runner-in-running-loop",
            e2e_last="pass",
            isolated="pass",
        ),
        swap.id: seen(swap, control="pass", e2e_first="pass", e2e_last="pass", isolated="pass"),
        native.id: seen(native, control="pass", e2e_first="pass", e2e_last="pass", isolated="pass"),
    }
    bench = FakeBench(table)
    result = explain.explain(start, bench, snapshot, budget=12)
    assert bench.runs == [start.id, swap.id, native.id]
    listed = result.listed()
    assert [(t.verdict, t.candidate.cell.id) for t in listed] == [
        ("fix", swap.id),
        ("fix", native.id),
        ("workaround", start.id),
    ]
    text = explain_report.report(result)
    assert "1. pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1  [1 change]" in text
    assert "needs the browser tests rewritten as async" in text and "session-wide loop" in text
    assert (
        "2. drop pytest-playwright 0.7.1 (Playwright's async API in the suite's own fixtures)"
        in text
    )
    assert "needs the suite's own fixtures on Playwright's async API (async_playwright()" in text
    assert (
        "3. keep every pin, then run the e2e tests after the async tests or in a separate pytest process"
        in text
    )
    assert "workarounds not listed" not in text  # none was measured: each would be dominated
    again = FakeBench(table, recorded=set(table))
    decided = explain.explain(start, again, snapshot, budget=12)
    assert again.runs == [] and [t.candidate.cell.id for t in decided.listed()] == [
        swap.id,
        native.id,
        start.id,
    ]


def plugin_fix(start: Cell, snapshot) -> Cell:
    """The other plugin (with the pytest-asyncio it needs): the first code change tried."""
    return next(
        c.cell
        for c in explain.single_changes(start, snapshot)
        if c.needs == explanation.NEEDS["pytest-playwright-asyncio"]
    )


def test_recorded_cells_are_used_first_and_the_budget_holds(snapshot) -> None:
    fixed = plugin_fix(REPORTED, snapshot)
    table = {
        REPORTED.id: seen(REPORTED, control="fail:y", e2e_first="bug:x", e2e_last="fail:y"),
        fixed.id: seen(fixed, control="pass", e2e_first="pass", e2e_last="pass", isolated="pass"),
    }
    bench = FakeBench(table, recorded={REPORTED.id, fixed.id})
    result = explain.explain(REPORTED, bench, snapshot, budget=2)
    assert bench.ran == 2 and fixed.id not in bench.runs
    (fix,) = result.ranked("fix")
    assert fix.source == "recorded" and fix.candidate.cell == fixed
    assert sum(t.source == "not tried" for t in result.trials) > 5
    assert sum(t.source == "ruled out" for t in result.trials) >= 1  # pytest 9 with the sync plugin
    assert "the budget of 2 new cells is spent" in result.stopped


def test_a_fix_with_no_code_change_stops_the_search_once_every_smaller_change_is_resolved(
    snapshot,
) -> None:
    start = Cell.make(
        "3.13", {"pytest": "8.4.2", "pytest-asyncio": "1.3.0", "playwright": "1.56.0"}
    )
    newer = Cell.make("3.13", {**start.pin_map, "pytest-asyncio": "1.4.1.post1"})
    table = {
        start.id: seen(start, control="fail:y", e2e_first="fail:y"),
        newer.id: seen(newer, control="pass", e2e_first="pass"),
    }
    bench = FakeBench(table, recorded={start.id})
    result = explain.explain(start, bench, snapshot, budget=40)
    assert bench.runs == [
        newer.id
    ]  # the nearest release of the first axis: nothing smaller is left
    assert "a fix with no code change" in result.stopped
    assert {t.source for t in result.trials if t.candidate.cell != newer} <= {
        "not needed",
        "ruled out",
    }


def test_with_no_budget_only_recorded_evidence_is_used(snapshot) -> None:
    table = {REPORTED.id: seen(REPORTED, control="fail:y", e2e_first="bug:x")}
    bench = FakeBench(table, recorded={REPORTED.id})
    result = explain.explain(REPORTED, bench, snapshot, budget=0)
    assert bench.ran == 0 and result.ranked("fix") == []
    assert "fixes: none found within the budget" in explain_report.report(result)


def test_a_start_that_passes_needs_nothing(snapshot) -> None:
    table = {REPORTED.id: seen(REPORTED, control="pass", e2e_first="pass")}
    result = explain.explain(REPORTED, FakeBench(table, recorded={REPORTED.id}), snapshot, budget=5)
    assert result.trials == () and "nothing to change" in explain_report.report(result)


def test_pairs_combine_changes_that_each_fixed_something_and_nothing_larger_than_a_fix_runs(
    snapshot,
) -> None:
    start = Cell.make(
        "3.13", {"pytest": "8.4.2", "pytest-asyncio": "1.3.0", "playwright": "1.56.0"}
    )
    newer_asyncio = Cell.make("3.13", {**start.pin_map, "pytest-asyncio": "1.4.1.post1"})
    newer_playwright = Cell.make("3.13", {**start.pin_map, "playwright": "1.57.0"})
    both = Cell.make(
        "3.13", {**start.pin_map, "pytest-asyncio": "1.4.1.post1", "playwright": "1.57.0"}
    )
    table = {
        start.id: seen(start, control="fail:y", e2e_first="bug:x"),
        newer_asyncio.id: seen(newer_asyncio, control="pass", e2e_first="bug:x"),
        newer_playwright.id: seen(newer_playwright, control="fail:y", e2e_first="pass"),
        both.id: seen(both, control="pass", e2e_first="pass"),
    }
    bench = FakeBench(table, recorded={start.id})
    result = explain.explain(start, bench, snapshot, budget=40)
    (fix,) = result.ranked("fix")
    assert fix.candidate.cell == both and fix.candidate.size == 2 and fix.source == "ran"
    sizes = [len(explain.steps_between(start, Cell.make(*_split(i)))) for i in bench.runs]
    assert max(sizes) == 2


def _split(cell_id: str) -> tuple[str, dict[str, str]]:
    return trials.parse_target([cell_id])


def test_recorded_neighbours_a_few_axes_away_count_as_evidence(snapshot) -> None:
    near = Cell.make(
        "3.13",
        {
            "pytest": "8.4.2",
            "pytest-asyncio": "0.24.0",
            "pytest-playwright-asyncio": "0.7.1",
            "playwright": "1.56.0",
            "pytest-cov": "7.0.0",
        },
    )
    table = {
        REPORTED.id: seen(REPORTED, control="fail:y", e2e_first="bug:x"),
        near.id: seen(near, control="pass", e2e_first="pass", e2e_last="pass"),
    }
    result = explain.explain(
        REPORTED, FakeBench(table, recorded={REPORTED.id, near.id}), snapshot, budget=0
    )
    (fix,) = result.ranked("fix")
    assert fix.candidate.cell == near and fix.candidate.size == 3 and fix.source == "recorded"


def test_the_findings_line_ranks_fixes_then_workarounds_with_their_evidence(
    snapshot, tmp_path
) -> None:
    fixed = plugin_fix(REPORTED, snapshot)
    patched = Cell.make("3.13", {**REPORTED.pin_map, "pytest-asyncio": "0.23.8"})
    table = {
        REPORTED.id: seen(REPORTED, control="fail:y", e2e_first="bug:loop-already-running"),
        fixed.id: seen(fixed, control="pass", e2e_first="pass", e2e_last="pass"),
        patched.id: seen(patched, control="pass", e2e_first="bug:x", e2e_last="pass"),
    }
    result = explain.explain(REPORTED, FakeBench(table, recorded=set(table)), snapshot, budget=0)
    line = explain_report.finding_json(
        result, SCENARIOS, run_id="e1", started_at="2026-11-25T00:00:00Z", took=3
    )
    assert [(c["rank"], c["kind"], c["size"]) for c in line["candidates"]] == [
        (1, "fix", 2),
        (2, "workaround", 1),
    ]
    assert line["candidates"][0]["needs"].startswith("needs the browser tests rewritten as async")
    assert line["candidates"][1]["how"] == ["run the e2e tests after the async tests"]
    assert line["candidates"][1]["summary"] == "pytest-asyncio 0.23.0 -> 0.23.8"
    assert line["start"]["signatures"] == ["y", "loop-already-running"]
    assert (
        line["candidates"][0]["run_ids"] == ["r1"]
        and line["candidates"][0]["scenarios"]["e2e-first"]
    )
    text = explain_report.report(result)
    assert (
        "1. pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; pytest-asyncio 0.23.0 -> 0.24.0"
        in text
    )
    assert (
        "2. pytest-asyncio 0.23.0 -> 0.23.8, then run the e2e tests after the async tests  [1 change + how the tests run]"
        in text
    )
    assert "needs the e2e tests run last" in text
