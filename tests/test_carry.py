"""Carrying records over: the inputs a record depends on once its cell is resolved, and
which earlier record a new run may take instead of measuring (no subprocess here; the
real runs are in test_incremental.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from matrix import options
from matrix.define import scenarios
from matrix.define.cell import Cell
from matrix.errors import EarlierResultsError
from matrix.measure import runner
from matrix.results import sources, store
from matrix.results.record import Counts, Outcome, Record

CELL = Cell.make("3.13", {"pytest-asyncio": "1.1.0"})
CONTROL = scenarios.BY_NAME["control"]


def ctx(
    tmp_path: Path,
    *,
    run_id: str = "run2",
    python: str = "3.13.0",
    pytest: str = "8.4.2",
    snapshot: str = "2026-01-01T00:00:00Z",
) -> runner._Cell:
    settings = options.read(
        {"MATRIX_OUT": str(tmp_path), "HOME": str(tmp_path), "MATRIX_RUN_ID": run_id}
    )
    opts = runner.RunOptions(settings=settings, exclude_newer=snapshot)
    return runner._Cell(
        cell=CELL,
        opts=opts,
        fingerprint=runner.fingerprint(CELL, ["control"], opts),
        python=python,
        resolved={"pytest": pytest, "pytest-asyncio": "1.1.0"},
    )


def earlier(key: str, **kw) -> Record:
    base = {
        "run_id": "run1",
        "cell_id": CELL.id,
        "python": "3.13.0",
        "requested": CELL.requested,
        "resolved": {},
        "probe": "control",
        "scenario": "control",
        "outcome": Outcome.PASS,
        "signature": None,
        "message": None,
        "tests": Counts(passed=3),
        "duration_s": 2.0,
        "started_at": "2026-01-01T00:00:00Z",
        "repro": "old",
        "log": "logs/x/control.log",
        "inputs": key,
    }
    return Record(**{**base, **kw})


def test_a_new_snapshot_that_resolves_the_same_keeps_the_key_and_a_new_release_changes_it(tmp_path):
    same = runner.inputs_key(ctx(tmp_path), CONTROL)
    assert runner.inputs_key(ctx(tmp_path, snapshot="2026-02-01T00:00:00Z"), CONTROL) == same
    assert runner.inputs_key(ctx(tmp_path, pytest="8.4.1"), CONTROL) != same
    assert runner.inputs_key(ctx(tmp_path, python="3.13.1"), CONTROL) != same  # patch release
    assert runner.inputs_key(ctx(tmp_path), scenarios.BY_NAME["e2e-first"]) != same
    variant = ctx(tmp_path)
    variant.opts = dataclasses.replace(variant.opts, variant="loop-scope=session")
    assert runner.inputs_key(variant, CONTROL) != same


def test_an_equal_earlier_record_is_carried_over_marked_with_the_run_it_was_measured_in(tmp_path):
    here = ctx(tmp_path)
    key = runner.inputs_key(here, CONTROL)
    old = earlier(key)
    moved = runner.carried(here, CONTROL, [earlier("0" * 16, outcome=Outcome.BUG), old])
    assert moved is not None and moved.carried_over and moved.measured_in == "run1"
    assert (moved.run_id, moved.outcome, moved.tests, moved.started_at) == (
        "run2",
        Outcome.PASS,
        Counts(passed=3),
        old.started_at,
    )
    again = runner.carried(ctx(tmp_path, run_id="run3"), CONTROL, [moved])
    assert again.measured_in == "run1"  # still the run that measured it
    assert runner.carried(here, CONTROL, [earlier(key, outcome=Outcome.INFRA)]) is None
    assert runner.carried(ctx(tmp_path, pytest="8.4.1"), CONTROL, [old]) is None


def test_records_of_a_published_results_json_are_read_back(tmp_path, data):
    records = store.read(data / "golden" / "results.jsonl")
    published = sources.read_earlier(data / "golden" / "expected" / "results.json").records
    assert sorted((r.cell_id, r.scenario, r.attempt, r.outcome) for r in published) == sorted(
        (r.cell_id, r.scenario, r.attempt, r.outcome) for r in records
    )
    with pytest.raises(EarlierResultsError, match="missing.json does not exist"):
        sources.read_earlier(tmp_path / "missing.json")
