"""The classifier: loop-conflict signatures are bugs only where the control is clean."""

from __future__ import annotations

import pytest

from matrix.results import junit, signatures
from matrix.results.record import Counts, Outcome
from matrix.results.signatures import Failure, classify, normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RuntimeError: This event loop is already running", "loop-already-running"),
        (
            "RuntimeError: Cannot run the event loop while another loop is running",
            "loop-another-running",
        ),
        (
            "RuntimeError: Runner.run() cannot be called from a running event loop",
            "runner-in-running-loop",
        ),
        (
            "RuntimeError: asyncio.run() cannot be called from a running event loop",
            "asyncio-run-in-running-loop",
        ),
        ("RuntimeError: Event loop is closed", "loop-closed"),
        (
            "Error: It looks like you are using Playwright Sync API inside the asyncio loop.\n"
            "Please use the Async API instead.",
            "sync-api-in-asyncio",
        ),
        (
            "RuntimeError: Task <Task pending> got Future <Future pending> attached to a "
            "different loop",
            "different-loop",
        ),
    ],
)
def test_every_loop_message_has_its_signature(text: str, expected: str) -> None:
    sig = signatures.match(text)
    assert sig is not None and sig.id == expected and sig.loop_conflict


def test_other_failures_are_normalised_so_equal_causes_group() -> None:
    a = normalise("FileNotFoundError: [Errno 2] No such file: '/tmp/abc/x.py' at 0x7f00aa")
    b = normalise("FileNotFoundError: [Errno 2] No such file: '/home/u/y/z.py' at 0x1234")
    assert a == b == "FileNotFoundError: [Errno N] No such file: '<path>' at <addr>"


def test_setup_errors_lose_pytests_wrapper() -> None:
    message = (
        "failed on setup with \"AttributeError: 'FixtureDef' object has no attribute 'unittest'\""
    )
    assert normalise(message) == "AttributeError: 'FixtureDef' object has no attribute 'unittest'"


def test_no_failures_is_a_pass() -> None:
    assert classify([]).outcome is Outcome.PASS


def test_loop_failure_absent_from_control_is_a_bug() -> None:
    failing = [Failure(test="t::a", message="RuntimeError: This event loop is already running")]
    verdict = classify(failing, control=[])
    assert (verdict.outcome, verdict.signature) == (Outcome.BUG, "loop-already-running")
    assert verdict.message == "RuntimeError: This event loop is already running"


def test_loop_failure_the_control_shares_is_not_blamed_on_playwright() -> None:
    failing = [Failure(test="t::a", message="RuntimeError: Event loop is closed")]
    verdict = classify(failing, control=failing)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.control_signature == "loop-closed"


def test_missing_browser_is_infra_not_a_failure() -> None:
    failing = [
        Failure(
            test="t::e2e",
            message="Error: BrowserType.launch: Executable doesn't exist at /x/chrome",
        )
    ]
    assert classify(failing).outcome is Outcome.INFRA


def test_reported_project_e2e_first_is_a_bug_beside_the_control_failure(data) -> None:
    control_counts, control = junit.read(data / "junit-control-fixturedef.xml")
    counts, failures = junit.read(data / "junit-e2e-first-already-running.xml")
    assert control_counts == Counts(passed=3, errors=4)
    assert counts == Counts(passed=3, failed=3, errors=4)
    verdict = classify(failures, control)
    assert verdict.outcome is Outcome.BUG
    assert verdict.signature == "loop-already-running"
    assert (
        verdict.control_signature
        == "AttributeError: 'FixtureDef' object has no attribute 'unittest'"
    )


def test_reported_project_e2e_last_has_only_the_controls_failure(data) -> None:
    _, control = junit.read(data / "junit-control-fixturedef.xml")
    _, failures = junit.read(data / "junit-e2e-last.xml")
    verdict = classify(failures, control)
    assert verdict.outcome is Outcome.FAIL
    assert (
        verdict.signature
        == verdict.control_signature
        == ("AttributeError: 'FixtureDef' object has no attribute 'unittest'")
    )


def test_a_missing_or_broken_junit_file_reads_as_none(tmp_path) -> None:
    assert junit.read(tmp_path / "absent.xml") is None
    (tmp_path / "cut.xml").write_text("<testsuites><testsuite><testcase")
    assert junit.read(tmp_path / "cut.xml") is None


def test_a_test_that_fails_then_errors_in_teardown_counts_once(data) -> None:
    # pytest-asyncio 0.26 leaves two testcase elements for such a test: 14 for 10 tests
    counts, failures = junit.read(data / "junit-e2e-first-0.26-teardown.xml")
    assert counts == Counts(passed=3, failed=3, errors=4)
    assert {f.signature for f in failures} == {
        "loop-another-running",
        "loop-already-running",
        "close-running-loop",
    }
    assert classify(failures).outcome is Outcome.BUG
