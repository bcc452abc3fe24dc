"""The results model: one rule for "the latest attempt" and the verdicts built on it, shared
by status, the page, the regression issues and merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.publish import regress, site
from matrix.results import merge, model, store
from matrix.results.record import Counts, Outcome, Record

CELL = "py3.12-pytest8.4.2-asyncio1.2.0"


def record(
    outcome: str,
    *,
    started: str,
    attempt: int = 1,
    run: str = "run-1",
    signature: str | None = None,
    scenario: str = "control",
) -> Record:
    return Record(
        run_id=run,
        cell_id=CELL,
        python="3.12.11",
        requested={"python": "3.12", "pytest": "8.4.2", "pytest-asyncio": "1.2.0"},
        resolved={},
        probe="control",
        scenario=scenario,
        outcome=Outcome(outcome),
        signature=signature,
        message=signature,
        tests=Counts(passed=1),
        duration_s=1.0,
        started_at=started,
        repro="",
        log=None,
        attempt=attempt,
    )


def folder(tmp: Path, name: str, *records: Record) -> Path:
    out = tmp / name
    for r in records:
        store.append(out, r)
    return out


def test_the_latest_attempt_is_the_newest_by_time_then_attempt():
    old_retry = record(
        "bug", started="2026-11-20T04:00:05Z", attempt=2, signature="loop-already-running"
    )
    newer = record("pass", started="2026-11-21T04:00:00Z", run="run-2")
    assert model.latest([newer, old_retry])[(CELL, "control")] is newer
    assert model.latest([old_retry, newer])[(CELL, "control")] is newer


def test_attempts_of_one_run_that_disagree_are_flaky_and_keep_the_failure():
    first = record("bug", started="2026-11-20T04:00:00Z", signature="loop-already-running")
    second = record("pass", started="2026-11-20T04:00:09Z", attempt=2)
    verdict = model.verdicts([first, second])[(CELL, "control")]
    assert (verdict.outcome, verdict.signature, verdict.attempts) == (
        "flaky",
        "loop-already-running",
        2,
    )


def test_different_runs_that_disagree_are_not_flaky():
    verdict = model.verdicts(
        [
            record("bug", started="2026-11-20T04:00:00Z", signature="loop-already-running"),
            record("pass", started="2026-11-21T04:00:00Z", run="run-2"),
        ]
    )[(CELL, "control")]
    assert verdict.outcome == "pass"


def test_a_cell_verdict_is_its_worst_scenario():
    found = model.verdicts(
        [
            record("pass", started="2026-11-20T04:00:00Z"),
            record(
                "bug",
                started="2026-11-20T04:00:10Z",
                scenario="e2e-first",
                signature="loop-already-running",
            ),
            record("timeout", started="2026-11-20T04:00:20Z", scenario="e2e-last"),
        ]
    )
    assert model.cell_outcome(model.by_cell(found)[CELL].values()) == "bug"


def test_after_merge_a_newer_pass_beats_an_older_retried_bug_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    """Merge used to sort by attempt before time: an older bug at attempt 2 came last and
    won in status, while the page said pass."""
    older = folder(
        tmp_path,
        "older",
        record("bug", started="2026-11-20T04:00:00Z", signature="loop-already-running"),
        record("bug", started="2026-11-20T04:00:07Z", attempt=2, signature="loop-already-running"),
    )
    newer = folder(tmp_path, "newer", record("pass", started="2026-11-21T04:00:00Z", run="run-2"))
    out = tmp_path / "merged"
    merge.merge([older, newer], out)

    monkeypatch.setenv("MATRIX_CONFIG", str(Path(__file__).parent / "data" / "small.toml"))
    monkeypatch.setenv("MATRIX_OUT", str(out))
    assert main(["status"]) == 0
    assert f"{CELL}: control=pass" in capsys.readouterr().out

    site.build(out, out / "site")
    summary = json.loads((out / "site" / "summary.json").read_text())
    assert [c["verdict"] for c in summary["cells"] if c["cell_id"] == CELL] == ["pass"]

    # The regression plan: the older run alone opens an issue; the merged run opens none.
    assert [a.kind for a in regress.plan([], older)] == ["open"]
    assert regress.plan([], out) == []
