"""The table: reading records, verdicts, recommendations, version boundaries and diffs.

Golden inputs live in tests/data: ``records-run1.jsonl`` (a small run resembling a real
one) and ``records-run2.jsonl`` (a week later, cut mid-write on its last line), with the
matching ``plan-*.json``. tests/conftest.py keeps unit tests from starting processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix.define.versions import version_key
from matrix.errors import EarlierResultsError
from matrix.publish import analysis, boundaries, changes
from matrix.results.record import Record

DATA = Path(__file__).parent / "data"
SYNC_0238 = "py3.13-pytest8.4.2-asyncio0.23.8-sync0.7.1-pw1.55.0-cov7.0.0"
SYNC_0212 = "py3.13-pytest8.4.2-asyncio0.21.2-sync0.7.1-pw1.55.0-cov7.0.0"
SYNC_0230 = "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.55.0-cov7.0.0"
SYNC_312 = "py3.12-pytest8.4.2-asyncio1.2.0-sync0.7.1-pw1.55.0-cov7.0.0"
ASYNC_NEWEST = "py3.13-pytest9.0.1-asyncio1.3.0-async0.10.0-pw1.56.0-cov7.0.0"
ASYNC_312 = "py3.12-pytest8.4.2-asyncio1.2.0-async0.7.1-pw1.55.0-cov7.0.0"
NATIVE_NEWEST = "py3.13-pytest9.0.1-asyncio1.3.0-pw1.56.0-cov7.0.0"
XSS_CELL = "py3.12-pytest8.4.2-asyncio1.2.0-pw1.55.0-cov7.0.0"
FIXTURE_DEF = "AttributeError: 'FixtureDef' object has no attribute 'unittest'"


def load(name: str = "run1"):
    records, warnings = analysis.read_records(DATA / f"records-{name}.jsonl")
    plan, _ = analysis.read_plan(DATA / f"plan-{name}.json")
    df = analysis.frame(records)  # read, so already records
    scenarios = analysis.scenario_verdicts(df)
    cells = analysis.cell_verdicts(scenarios, plan)
    return records, warnings, df, scenarios, cells


@pytest.fixture(scope="module")
def run1():
    return load("run1")


def cell(cells, cell_id):
    rows = analysis.cell_dicts(cells[cells["cell_id"] == cell_id])
    assert len(rows) == 1, cell_id
    return rows[0]


def verdict(scenarios, cell_id, scenario):
    row = scenarios[(scenarios["cell_id"] == cell_id) & (scenarios["scenario"] == scenario)]
    assert len(row) == 1
    return row.iloc[0]


def typed(records):
    """The records the analysis works on, from their JSON."""
    return [Record.from_json(r) for r in records]


def record(**overrides):
    """One whole record, as Record.to_json() writes it."""
    base = {
        "schema": 1,
        "run_id": "r1",
        "cell_id": "c1",
        "python": "3.10.14",
        "requested": {
            "python": "3.10",
            "pytest": "8.4.2",
            "pytest-asyncio": "1.2.0",
            "pytest-playwright-asyncio": "0.9.0",
            "playwright": "1.55.0",
        },
        "resolved": {"pytest": "8.4.2"},
        "probe": "async-plugin",
        "scenario": "e2e-first",
        "outcome": "pass",
        "signature": None,
        "message": None,
        "tests": {"passed": 1, "failed": 0, "errors": 0, "skipped": 0},
        "duration_s": 1.0,
        "started_at": "2026-11-20T04:17:00Z",
        "repro": "nox -s x",
        "log": None,
        "control_signature": None,
        "attempt": 1,
        "fingerprint": "",
    }
    return base | overrides


# ---------------------------------------------------------------- reading


def test_a_line_cut_mid_write_is_skipped_with_its_line_number():
    records, warnings = analysis.read_records(DATA / "records-run2.jsonl")
    assert len(records) == 101
    assert len(warnings) == 1 and "line 102" in warnings[0]


def test_malformed_lines_are_skipped_and_whole_records_kept(tmp_path):
    lines = [
        json.dumps(record(cell_id="a")),
        "not json",
        json.dumps({"cell_id": "x"}),
        json.dumps(record(cell_id="b", outcome="exploded")),
        "",
        json.dumps([1]),
        json.dumps(record(cell_id="c")),
    ]
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records, warnings = analysis.read_records(path)
    assert [r.cell_id for r in records] == ["a", "c"]
    assert [w.split(":")[0] for w in warnings] == [
        "results.jsonl line 2",
        "results.jsonl line 3",
        "results.jsonl line 4",
        "results.jsonl line 6",
    ]


def test_versions_stay_strings(tmp_path):
    df = analysis.frame(typed([record()]))
    assert df.loc[0, "requested.python"] == "3.10"
    assert df.loc[0, "python"] == "3.10.14"
    assert df.loc[0, "plugin"] == analysis.ASYNC and df.loc[0, "plugin_version"] == "0.9.0"
    assert df.loc[0, "tests.passed"] == 1


def test_unreadable_plan_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"cells": 3}')
    assert analysis.read_plan(path)[0] is None and "plan.json" in analysis.read_plan(path)[1][0]
    assert analysis.read_plan(tmp_path / "missing.json") == (None, [])


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("0.9.0", "0.10.0"),
        ("0.23.8", "1.2.0"),
        ("3.9", "3.10"),
        ("1.0.0rc1", "1.0.0"),
        (None, "0.1"),
        ("1.0", "not-a-version"),
    ],
)
def test_versions_sort_as_versions(low, high):
    assert version_key(low) < version_key(high)


# ---------------------------------------------------------------- verdicts


def test_the_latest_attempt_is_the_verdict(run1):
    _, _, _, scenarios, _ = run1
    retried = verdict(scenarios, SYNC_0238, "e2e-last")
    assert retried["outcome"] == "pass" and retried["attempts"] == 3


def test_attempts_that_disagree_are_flaky(run1):
    _, _, _, scenarios, cells = run1
    disagreed = verdict(scenarios, ASYNC_312, "e2e-first")  # bug, then pass
    assert disagreed["outcome"] == "flaky" and disagreed["signature"] == "different-loop"
    assert verdict(scenarios, ASYNC_312, "e2e-last")["outcome"] == "flaky"  # said so
    assert cell(cells, ASYNC_312)["verdict"] == "flaky"


@pytest.mark.parametrize(
    ("cell_id", "expected", "signature"),
    [
        (SYNC_0212, "bug", "loop-another-running"),
        (SYNC_0238, "bug", "loop-already-running"),
        (SYNC_312, "bug", "runner-in-running-loop"),
        (SYNC_0230, "fail", FIXTURE_DEF),
        (ASYNC_NEWEST, "pass", None),
        (NATIVE_NEWEST, "pass", None),
        ("py3.12-pytest9.0.1-asyncio1.2.0-pw1.56.0-cov7.0.0", "unresolvable", None),
        ("py3.14-pytest9.0.1-asyncio1.3.0-async0.10.0-pw1.56.0-cov7.0.0", "no-interpreter", None),
        ("py3.13-pytest8.4.2-asyncio0.23.8-async0.7.1-pw1.55.0-cov7.0.0", "incompatible", None),
        ("py3.12-pytest8.4.2-asyncio0.24.0-async0.7.1-pw1.55.0-cov7.0.0", "not-run", None),
        (XSS_CELL, "fail", '"><img src=x onerror=alert(1)>'),
    ],
)
def test_cell_verdicts(run1, cell_id, expected, signature):
    found = cell(run1[4], cell_id)
    assert (found["verdict"], found["signature"]) == (expected, signature)


def test_declared_incompatible_cells_keep_the_plans_reason(run1):
    found = cell(run1[4], "py3.13-pytest8.4.2-asyncio0.23.8-async0.7.1-pw1.55.0-cov7.0.0")
    assert "pytest-asyncio>=0.24.0" in found["reason"] and found["scenarios"] == 0


@pytest.mark.parametrize("worse,better", list(zip(analysis.SEVERITY, analysis.SEVERITY[1:])))
def test_a_cell_is_its_worst_scenario(worse, better):
    records = [
        record(scenario="control", outcome=better),
        record(scenario="isolated", outcome=worse, signature="s"),
    ]
    cells = analysis.cell_verdicts(analysis.scenario_verdicts(analysis.frame(typed(records))))
    assert cells.loc[0, "verdict"] == worse


def test_records_win_over_the_plan():
    plan = {
        "cells": [
            {"cell_id": "c1", "requested": {}, "status": "incompatible", "reason": "metadata"}
        ]
    }
    cells = analysis.cell_verdicts(
        analysis.scenario_verdicts(analysis.frame(typed([record()]))), plan
    )
    assert cells["verdict"].tolist() == ["pass"]


# ---------------------------------------------------------------- recommendations


def test_recommendations_per_plugin(run1):
    recs = analysis.recommendations(run1[4])
    assert recs[analysis.SYNC].best is None and recs[analysis.SYNC].measured == 6
    assert recs[analysis.ASYNC].best["cell_id"] == ASYNC_NEWEST
    assert recs[analysis.ASYNC].passing == 3
    assert recs[analysis.NATIVE].best["cell_id"] == NATIVE_NEWEST
    assert list(recs[analysis.ASYNC].by_python) == ["3.13"]


def test_newest_compares_versions_not_text():
    records = [
        record(cell_id=f"c{v}", requested=record()["requested"] | {"pytest-playwright-asyncio": v})
        for v in ("0.9.0", "0.10.0", "0.7.1")
    ]
    recs = analysis.recommendations(
        analysis.cell_verdicts(analysis.scenario_verdicts(analysis.frame(typed(records))))
    )
    assert recs[analysis.ASYNC].best["plugin_version"] == "0.10.0"


def test_fixes_are_derived_from_the_records(run1):
    _, _, _, scenarios, cells = run1
    found = analysis.fixes(scenarios, analysis.recommendations(cells))
    sync = found[analysis.SYNC]
    assert sync[0].startswith(
        "switch from pytest-playwright to pytest-playwright-asyncio "
        "0.10.0 with pytest-asyncio 1.3.0"
    )
    assert "separate process" in sync[1] and "passes in 5 of the 5 cells" in sync[1]
    assert found[analysis.ASYNC][0].startswith("use pytest-playwright-asyncio 0.10.0")


# ---------------------------------------------------------------- boundaries


def summary_of(cells):
    return {
        (t["axis"], t["before"], t["after"], t["before_verdict"], t["after_verdict"])
        for t in boundaries.transition_summary(boundaries.transitions(cells))
    }


def test_first_bad_and_last_good(run1):
    found = summary_of(run1[4])
    assert ("pytest", "8.1.1", "8.4.2", "pass", "fail") in found  # last good -> first bad
    assert ("pytest-asyncio", "0.23.0", "0.23.8", "fail", "pass") in found  # fixed again
    assert ("pytest-asyncio", "0.23.8", "1.2.0", "bug", "bug") in found  # new signature


def test_undecided_cells_are_stepped_over():
    req = record()["requested"]
    records = [
        record(cell_id=f"c{v}", outcome=o, requested=req | {"pytest-asyncio": v})
        for v, o in (("0.24.0", "pass"), ("1.0.0", "timeout"), ("1.2.0", "bug"))
    ]
    cells = analysis.cell_verdicts(analysis.scenario_verdicts(analysis.frame(typed(records))))
    assert summary_of(cells) == {("pytest-asyncio", "0.24.0", "1.2.0", "pass", "bug")}


# ---------------------------------------------------------------- diff


def test_diff_against_the_previous_run():
    _, _, _, scenarios, _ = load("run2")
    previous = changes.read_previous(DATA / "records-run1.jsonl")
    assert previous.date == "2026-11-20T04:24:49Z"
    found = changes.diff(scenarios, previous)
    assert [(c["cell_id"], c["scenario"], c["before"], c["after"]) for c in found["regressed"]] == [
        (SYNC_312, "isolated", "pass", "timeout")
    ]
    assert {(c["cell_id"], c["after"]) for c in found["fixed"]} == {(ASYNC_312, "pass")}
    assert {c["cell_id"] for c in found["gone"]} == {SYNC_0212}
    assert len(found["gone"]) == 7
    assert {c["cell_id"].split("-")[2] for c in found["new"]} == {"asyncio1.4.0"}
    assert found["changed"] == []


def test_previous_from_a_folder_holding_a_results_file(tmp_path):
    (tmp_path / "results.jsonl").write_text((DATA / "records-run1.jsonl").read_text())
    assert changes.read_previous(tmp_path).source == "results.jsonl"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("results.json", "{not json"),
        ("results.json", "[1, 2]"),
        ("results.json", '{"a": 1}'),
        ("summary.json", '{"scenarios": [{"cell_id": "x"}]}'),
        ("results.jsonl", "garbage\n"),
    ],
)
def test_malformed_previous_raises_earlier_results_error(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(EarlierResultsError):
        changes.read_previous(tmp_path / name)


def test_a_previous_folder_without_results_raises(tmp_path):
    with pytest.raises(EarlierResultsError, match="holds none of"):
        changes.read_previous(tmp_path)


# ---------------------------------------------------------------- evidence


def test_evidence_counts(run1):
    _, _, df, scenarios, cells = run1
    ev = analysis.evidence(df, scenarios, cells, {"profile": "quick", "snapshot_time": "t"})
    assert (ev["records"], ev["scenarios"], ev["cells"]) == (98, 95, 19)
    assert (ev["retries"], ev["retried_scenarios"], ev["flaky"]) == (3, 2, 2)
    assert ev["cell_verdicts"]["incompatible"] == 1 and ev["cell_verdicts"]["not-run"] == 1
    assert ev["started"] == "2026-11-20T04:17:00Z" and ev["profile"] == "quick"


def test_no_records_at_all():
    df = analysis.frame([])
    scenarios = analysis.scenario_verdicts(df)
    cells = analysis.cell_verdicts(scenarios, None)
    assert len(cells) == 0 and analysis.recommendations(cells) == {}
    assert analysis.evidence(df, scenarios, cells, None)["records"] == 0
