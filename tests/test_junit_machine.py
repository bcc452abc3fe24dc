"""Failures that are the machine's, not the cell's: a browser that is not installed, a port
another process holds (read from golden JUnit XML; no process is started)."""

from __future__ import annotations

from matrix.measure import runner
from matrix.results import junit
from matrix.results.record import Counts, Outcome
from matrix.results.signatures import Failure, Verdict, classify

FIREFOX = "needs firefox, which is not installed here"


def test_a_test_whose_browser_is_not_installed_is_set_aside_not_failed(data) -> None:
    report = junit.report(data / "junit-firefox-missing.xml")
    assert report.counts == Counts(passed=3, skipped=2)
    assert report.failures == ()
    assert report.set_aside == (
        f"tests.test_ui::test_title[firefox]: {FIREFOX}",
        f"tests.test_ui::test_click[firefox]: {FIREFOX}",
    )
    # read() (what the search commands use) still sees every failure
    counts, failures = junit.read(data / "junit-firefox-missing.xml")
    assert counts == Counts(passed=3, errors=2) and len(failures) == 2


def test_the_other_browser_tests_still_count(data) -> None:
    report = junit.report(data / "junit-firefox-missing.xml")
    browser = {
        junit.case_id(n)
        for n in (
            "tests/test_ui.py::test_title[chromium]",
            "tests/test_ui.py::test_click[chromium]",
            "tests/test_ui.py::test_title[firefox]",
        )
    }
    passed = runner._not_the_cells(classify(list(report.failures)), [report], browser)
    assert passed.outcome is Outcome.PASS
    assert passed.message.startswith(
        "2 test(s) set aside, their browser is not installed here: "
        "tests.test_ui::test_title[firefox]: needs firefox"
    )
    bug = Verdict(
        outcome=Outcome.BUG, signature="runner-in-running-loop", message="RuntimeError: ..."
    )
    assert runner._not_the_cells(bug, [report], browser) is bug  # a chromium test's bug stands
    # with every browser test set aside nothing of Playwright was measured: infra
    alone = runner._not_the_cells(
        classify([]), [report], {junit.case_id("tests/test_ui.py::test_title[firefox]")}
    )
    assert (alone.outcome, alone.signature) == (Outcome.INFRA, "browser-missing")


def test_a_port_in_use_is_infra_even_when_only_the_server_s_stderr_says_so(data) -> None:
    report = junit.report(data / "junit-port-in-use.xml")
    assert report.port_in_use == (
        "ERROR:    [Errno 98] error while attempting to bind on "
        "address ('127.0.0.1', 8126): address already in use"
    )
    failed = classify(list(report.failures))
    assert failed.outcome is Outcome.FAIL  # what it was before: Timed out waiting
    verdict = runner._not_the_cells(failed, [report], set())
    assert (verdict.outcome, verdict.signature) == (Outcome.INFRA, "port-in-use")
    assert "[Errno 98]" in verdict.message


def test_port_in_use_is_recognised_as_each_system_words_it() -> None:
    for text in (
        "OSError: [Errno 98] Address already in use",
        "OSError: [Errno 48] Address already in use",
        "Error: listen EADDRINUSE: address already in use 127.0.0.1:8127",
        "OSError: [WinError 10048] Only one usage of each socket address is normally permitted",
    ):
        assert junit._port_line([Failure(test="t", message=text)], {}) == text
    assert junit._port_line([Failure(test="t", message="AssertionError: 98 != 97")], {}) == ""


def test_a_node_id_maps_to_the_junit_id() -> None:
    assert (
        junit.case_id("tests/test_a.py::TestX::test_y[chromium-a::b]")
        == "tests.test_a.TestX::test_y[chromium-a::b]"
    )
    assert junit.case_id("test_top.py::test_z") == "test_top::test_z"
