"""Reading pytest's JUnit XML: counts and failures, never regexes over terminal output.

Two kinds of failure say nothing about the cell and are told apart here: a test that
could not start the browser it asks for (a Firefox test on a Chromium-only machine) is
set aside, so that the other tests' verdicts still count; and a port the suite needs that
another process holds (a fixed port such as Datasette's 8126) is reported, since the
whole run is then the machine's fault, not the pins'.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from matrix.results.record import Counts
from matrix.results.signatures import BY_ID, Failure

#: Playwright's answer when the browser a test asks for is not installed.
MISSING_BROWSER = BY_ID["browser-missing"]
_BROWSER_PATH = re.compile(r"ms-playwright[/\\]([a-z]+)[-_]")
_BROWSER_PARAM = re.compile(r"\[(chromium|firefox|webkit)\b")
#: ``OSError: [Errno 98] Address already in use`` (Linux), 48 (macOS), 10048 (Windows), as
#: Python, uvicorn, asyncio and Node word it.
PORT_IN_USE = re.compile(
    r"\[Errno (?:98|48|10048)\]|\bEADDRINUSE\b|address already in use|"
    r"only one usage of each socket address",
    re.IGNORECASE,
)
#: Captured stderr is written to the XML (``junit_logging``) because a server a fixture
#: starts says "address already in use" there, not in the traceback. Passing tests' too:
#: pytest writes a test's output with its teardown report, which passes even when the
#: setup failed, so ``junit_log_passing_tests=false`` would drop it.
PYTEST_OPTIONS = ("-o", "junit_logging=system-err")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Report:
    """What one JUnit XML file says, the tests that could not run here told apart."""

    counts: Counts
    failures: tuple[Failure, ...] = ()
    tests: tuple[str, ...] = ()  # every test id in the file
    set_aside: tuple[str, ...] = ()  # "test id: why" for tests whose browser is not here
    port_in_use: str = ""  # the line that says a port was taken, if one does


def read(path: Path) -> tuple[Counts, list[Failure]] | None:
    """Counts and failures from a JUnit XML file; None if there is no usable file.

    pytest writes the file at the end of the session, so a run that crashed at startup
    or was killed has none: the caller then falls back on the log. A test that fails and
    then errors in teardown appears as two ``testcase`` elements (pytest-asyncio 0.25 and
    0.26 do that here), so tests are counted once per id, by their worst result.
    """
    parsed = report(path, set_aside=False)
    return None if parsed is None else (parsed.counts, list(parsed.failures))


def report(path: Path, *, set_aside: bool = True) -> Report | None:
    """The file's :class:`Report`; with ``set_aside``, a test whose every failure is
    Playwright's missing-browser error is counted skipped (it did not run here) and its
    failures are left out. None if there is no usable file."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    results: dict[str, str] = {}
    failures: dict[str, list[Failure]] = {}
    stderr: dict[str, str] = {}
    for case in root.iter("testcase"):
        test = _test_id(case)
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        failures.setdefault(test, []).extend(
            Failure(test=test, message=child.get("message") or "", text=child.text or "")
            for child in case
            if child.tag in ("failure", "error")
        )
        stderr[test] = stderr.get(test, "") + "".join(
            child.text or "" for child in case if child.tag == "system-err"
        )
        results[test] = _worst(results.get(test, "passed"), kinds)
    aside = {
        test: why
        for test, found in failures.items()
        if set_aside and (why := _unrunnable(test, found))
    }
    for test in aside:
        results[test], failures[test] = "skipped", []
    counts = Counts(
        **{
            kind: list(results.values()).count(kind)
            for kind in ("passed", "failed", "errors", "skipped")
        }
    )
    kept = [f for found in failures.values() for f in found]
    return Report(
        counts=counts,
        failures=tuple(kept),
        tests=tuple(results),
        set_aside=tuple(f"{test}: {why}" for test, why in aside.items()),
        port_in_use=_port_line(kept, stderr),
    )


def case_id(nodeid: str) -> str:
    """The id :func:`report` gives the test pytest calls ``nodeid`` (pytest's junitxml
    writes ``tests/test_a.py::C::t[x]`` as classname ``tests.test_a.C``, name ``t[x]``)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return "::".join((".".join(names[:-1]), names[-1])) if len(names) > 1 else names[0]


def _unrunnable(test: str, failures: list[Failure]) -> str:
    """Why ``test`` could not run here (its browser is not installed), or ""."""
    if not failures or any(f.known is not MISSING_BROWSER for f in failures):
        return ""
    text = " ".join(f"{f.message} {f.text}" for f in failures)
    named = _BROWSER_PATH.search(text) or _BROWSER_PARAM.search(test)
    return f"needs {named.group(1) if named else 'a browser'}, which is not installed here"


def _port_line(failures: list[Failure], stderr: dict[str, str]) -> str:
    """The first line of a failure (or of its test's captured stderr) that says a port is
    taken; "" when none does."""
    for failure in failures:
        for text in (failure.message, failure.text, stderr.get(failure.test, "")):
            line = next((ln.strip() for ln in text.splitlines() if PORT_IN_USE.search(ln)), "")
            if line:
                return line
    return ""


_RANK = {"passed": 0, "skipped": 1, "errors": 2, "failed": 3}
_KIND = {"failure": "failed", "error": "errors", "skipped": "skipped"}


def _worst(current: str, tags: list[str]) -> str:
    return max([current, *(_KIND[t] for t in tags)], key=_RANK.__getitem__)


def _test_id(case: ET.Element) -> str:
    classname = case.get("classname") or ""
    name = case.get("name") or ""
    return f"{classname}::{name}" if classname else name
