"""The results file: appended line by line, read back whole even after a crash."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

from matrix.results import progress, store
from matrix.results.record import Counts, Outcome, Record


def make(
    cell: str = "c1", scenario: str = "control", outcome: Outcome = Outcome.PASS, **kw
) -> Record:
    base = {
        "run_id": "r1",
        "cell_id": cell,
        "python": "3.13.0",
        "requested": {"python": "3.13"},
        "resolved": {},
        "probe": "control",
        "scenario": scenario,
        "outcome": outcome,
        "signature": None,
        "message": None,
        "tests": Counts(passed=3),
        "duration_s": 2.0,
        "started_at": "2026-11-25T12:00:00Z",
        "repro": "nox -s 'cell(c1)'",
        "log": None,
    }
    return Record(**{**base, **kw})


def test_records_round_trip_through_the_file(tmp_path) -> None:
    first, second = (
        make(),
        make(scenario="e2e-first", outcome=Outcome.BUG, signature="loop-already-running"),
    )
    store.append(tmp_path, first)
    store.append(tmp_path, second)
    assert store.read(tmp_path) == [first, second]


def test_a_line_cut_mid_write_is_skipped_with_its_line_number(tmp_path, capsys) -> None:
    store.append(tmp_path, make())
    with (tmp_path / store.RESULTS).open("a") as f:
        f.write('{"schema": 1, "cell_id": "c2", "outc')
    assert store.read(tmp_path) == [make()]
    assert "line 2 is not a whole record" in capsys.readouterr().err


def test_appending_after_a_cut_line_starts_a_fresh_line(tmp_path) -> None:
    store.append(tmp_path, make())
    with (tmp_path / store.RESULTS).open("a") as f:
        f.write('{"cut')
    store.append(tmp_path, make(cell="c3"))
    assert [r.cell_id for r in store.read(tmp_path, warn=False)] == ["c1", "c3"]


def test_progress_counts_cells_and_outcomes_and_estimates_time_left() -> None:
    records = [make(), make(scenario="e2e-first", outcome=Outcome.BUG, duration_s=58.0)]
    planned = {cell: ["control", "e2e-first"] for cell in ("c1", "c2", "c3")}
    line = progress.line(planned, records, run_id="r1")
    assert line == "cells 1/3 · bug 1, pass 1 · about 2 min left at this pace"


def test_a_partly_recorded_cell_does_not_count_as_done() -> None:
    records = [make(), make(cell="c2")]  # c2 was cut off after its control
    planned = {"c1": ["control"], "c2": ["control", "e2e-first"]}
    assert progress.line(planned, records, run_id="r1").startswith("cells 1/2 ·")


def test_merge_into_a_folder_keeps_its_records_and_writes_0644(tmp_path) -> None:
    from matrix.results import merge

    target, shard = tmp_path / "site-results", tmp_path / "shard"
    store.append(target, make(cell="only-here"))
    store.append(target, make(cell="kept"))
    store.append(shard, make(cell="new"))
    store.append(shard, make(cell="kept"))  # the same record again: kept once
    old = os.umask(0o022)
    try:
        merged = merge.merge([shard], target)
    finally:
        os.umask(old)
    assert sorted(r.cell_id for r in store.read(target)) == ["kept", "new", "only-here"]
    assert (merged.records, merged.duplicates) == (3, 1)
    assert stat.S_IMODE((target / store.RESULTS).stat().st_mode) == 0o644


def test_a_long_message_is_capped_on_read_and_the_cut_is_said() -> None:
    from matrix.results.record import MAX_RECORD_MESSAGE

    record = Record.from_json(make(message="E" * 5_000_000).to_json())
    assert record.message.startswith("E" * MAX_RECORD_MESSAGE)
    assert record.message.endswith(
        f"… ({5_000_000 - MAX_RECORD_MESSAGE} more characters in the log)"
    )


def test_a_carried_over_record_keeps_what_the_next_run_compares() -> None:
    carried = dataclasses.replace(make(), inputs="a1b2c3", measured_in="run-0", carried_over=True)
    again = Record.from_json(json.loads(json.dumps(carried.to_json())))
    assert (again.inputs, again.measured_in, again.carried_over) == ("a1b2c3", "run-0", True)
