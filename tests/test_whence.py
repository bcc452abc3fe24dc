"""Whence: naming a pasted error, the combinations and ranges that show it, known fixes.

Inputs are recorded results: ``tests/data/bisect-grid.jsonl`` (a real grid along
pytest-asyncio, see test_bisect.py; its extra ``signatures`` key is ignored when read as
records), ``tests/data/bisect-findings.jsonl`` (the line a real bisect over that range
wrote) and ``tests/data/explain-findings.jsonl`` (the line a real explain on the reported
project's versions wrote).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import shutil
from pathlib import Path

import pytest

from matrix.errors import ConfigError
from matrix.results import store
from matrix.search import bisect, explain, whence

RUNNER = "RuntimeError: Runner.run() cannot be called from a running event loop"
TRACEBACK = f"""
tests/unit/test_unit_app.py:12: in test_greet
    return runner.run(coro, context=context)
E   {RUNNER}
"""


@pytest.fixture
def results(data, tmp_path) -> Path:
    """A results folder: the recorded grid, and the findings of bisect and explain."""
    shutil.copy(data / "bisect-grid.jsonl", tmp_path / store.RESULTS)
    shutil.copy(data / "bisect-findings.jsonl", tmp_path / bisect.FINDINGS)
    shutil.copy(data / "explain-findings.jsonl", tmp_path / explain.FINDINGS)
    return tmp_path


def test_a_catalogue_message_is_named_from_any_line_of_a_traceback() -> None:
    match = whence.identify(TRACEBACK)
    assert (match.signature, match.how, match.line) == (
        "runner-in-running-loop",
        "catalogue",
        RUNNER,
    )
    assert "asyncio.Runner" in match.meaning


def test_an_unknown_message_is_compared_with_recorded_signatures_once_normalised() -> None:
    recorded = [
        "AttributeError: 'FixtureDef' object has no attribute 'unittest'",
        "ImportError: cannot import name 'X' from 'app' (<path>)",
    ]
    match = whence.identify(
        "E       AttributeError: 'FixtureDef' object has no attribute 'unittest'", recorded
    )
    assert (match.signature, match.how) == (recorded[0], "recorded")
    longer = (
        "ImportError: cannot import name 'X' from 'app' (/home/me/src/app/__init__.py) and more"
    )
    assert whence.identify(longer, recorded).signature == recorded[1]
    assert whence.identify("KeyError: 'banana'", recorded) is None


def test_runner_in_running_loop_appears_from_pytest_asyncio_1_1_0_on(results) -> None:
    records = store.read(results)
    found = whence.occurrences("runner-in-running-loop", records, results)
    assert {o.record.requested["pytest-asyncio"] for o in found} == {
        "1.1.0",
        "1.1.1",
        "1.2.0",
        "1.3.0",
        "1.4.0",
        "1.4.1",
        "1.4.1.post1",
        "1.5.0",
    }
    spans = whence.ranges(found, records)
    assert spans["pytest-asyncio"] == [("1.1.0", "1.5.0", 8)]
    assert spans["pytest"] == [("8.4.2", "8.4.2", 1)] and spans["python"] == [("3.13", "3.13", 1)]


def test_ranges_break_where_a_measured_release_does_not_show_it(results) -> None:
    records = store.read(results)
    found = whence.occurrences("loop-another-running", records, results)
    spans = whence.ranges(found, records)["pytest-asyncio"]
    assert spans == [("0.21.2", "0.21.2", 1), ("0.23.4", "0.23.4", 1), ("0.23.6", "1.0.0", 10)]


def test_a_signature_that_is_not_the_first_failure_is_found_in_the_junit_xml(results, data) -> None:
    # records that keep no signatures of their own: the JUnit XML beside the log says
    records = [dataclasses.replace(r, signatures=()) for r in store.read(results)]
    (target,) = [
        r
        for r in records
        if r.scenario == "e2e-first" and r.requested["pytest-asyncio"] == "0.25.1"
    ]
    report = (results / target.log).with_suffix(".junit-1.xml")
    report.parent.mkdir(parents=True)
    shutil.copy(data / "junit-e2e-first-0.26-teardown.xml", report)
    found = whence.occurrences("close-running-loop", records, results)
    assert [(o.record.cell_id, o.first) for o in found] == [(target.cell_id, False)]


def test_a_later_signature_a_record_keeps_is_found_with_no_log(results) -> None:
    # the reference dataset ships no logs: its records keep every signature they showed
    records = [dataclasses.replace(r, log=None) for r in store.read(results)]
    kept = sorted(
        r.cell_id
        for r in records
        if "close-running-loop" in r.signatures and r.signature != "close-running-loop"
    )
    found = whence.occurrences("close-running-loop", records, results)
    assert kept and sorted(o.record.cell_id for o in found if not o.first) == kept


def run(results: Path, *text: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    whence.add_arguments(parser)
    args = parser.parse_args([*text, "--results", str(results)])
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        code = whence.run(args)
    return code, out.getvalue()


def test_the_command_names_the_signature_its_releases_and_known_fixes(results) -> None:
    code, text = run(results, RUNNER)
    assert code == 0
    assert "is runner-in-running-loop (in the catalogue)" in text
    assert "recorded in 8 scenario runs of 8 combinations" in text
    assert "pytest-asyncio             1.1.0–1.5.0   (8 measured versions)" in text
    assert "pytest-asyncio 1.0.0 -> 1.1.0: it appears at 1.1.0" in text
    assert "reproduce: " in text


def test_fixes_explain_found_are_listed_for_the_signatures_of_their_start(results) -> None:
    code, text = run(results, "This event loop is already running")
    assert code == 0 and "fixes found by explain:" in text
    assert (
        "1. fix: pytest-playwright 0.7.1 -> pytest-playwright-asyncio 0.7.1; pytest-asyncio 0.23.0 -> 0.24.0"
        in text
    )


def test_unknown_text_exits_1_and_shows_its_normalised_form(results) -> None:
    code, text = run(results, "KeyError: 'banana' at 0x7f00deadbeef")
    assert code == 1 and "KeyError: 'banana' at <addr>" in text


def test_no_text_is_a_config_error(results) -> None:
    with pytest.raises(ConfigError, match="needs the error text"):
        run(results, " ")


def test_a_whole_log_can_come_from_stdin(results, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TRACEBACK))
    code, text = run(results, "-")
    assert code == 0 and "runner-in-running-loop" in text
