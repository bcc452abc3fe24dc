"""A whole record of one scenario for tests that need one (the readers' fuzz tests, the
hardening tests): every field plain, the fields given replacing them."""

from __future__ import annotations

from matrix.results.record import Counts, Outcome, Record

PLAIN = {
    "run_id": "r1",
    "cell_id": "py3.13-pytest8.4.2",
    "python": "3.13.0",
    "requested": {"pytest": "8.4.2"},
    "resolved": {"pytest": "8.4.2"},
    "probe": "control",
    "scenario": "control",
    "outcome": Outcome.PASS,
    "signature": None,
    "message": None,
    "tests": Counts(),
    "duration_s": 1.0,
    "started_at": "2026-01-31T04:17:00Z",
    "repro": "nox",
    "log": None,
}
#: The fields of a record of the bug (Playwright's sync API inside pytest-asyncio's loop).
BUG = {
    "outcome": Outcome.BUG,
    "signature": "loop-already-running",
    "message": "RuntimeError: This event loop is already running",
}


def a_record(**fields) -> Record:
    """A record that passes its control scenario, the fields given replacing the plain ones."""
    return Record(**{**PLAIN, **fields})


def a_bug_record(**fields) -> Record:
    """A record of the bug, the fields given replacing the plain ones."""
    return Record(**{**PLAIN, **BUG, **fields})
