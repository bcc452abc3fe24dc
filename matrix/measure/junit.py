"""Reading pytest's JUnit XML: counts and failures, never regexes over terminal output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from matrix.results.record import Counts
from matrix.results.signatures import Failure


def read(path: Path) -> tuple[Counts, list[Failure]] | None:
    """Counts and failures from a JUnit XML file; None if there is no usable file.

    pytest writes the file at the end of the session, so a run that crashed at startup
    or was killed has none: the caller then falls back on the log. A test that fails and
    then errors in teardown appears as two ``testcase`` elements (pytest-asyncio 0.25 and
    0.26 do that here), so tests are counted once per id, by their worst result.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    results: dict[str, str] = {}
    failures: list[Failure] = []
    for case in root.iter("testcase"):
        test = _test_id(case)
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        for child in case:
            if child.tag in ("failure", "error"):
                failures.append(Failure(test=test, message=child.get("message") or "",
                                        text=child.text or ""))
        results[test] = _worst(results.get(test, "passed"), kinds)
    counts = Counts(**{kind: list(results.values()).count(kind)
                       for kind in ("passed", "failed", "errors", "skipped")})
    return counts, failures


_RANK = {"passed": 0, "skipped": 1, "errors": 2, "failed": 3}
_KIND = {"failure": "failed", "error": "errors", "skipped": "skipped"}


def _worst(current: str, tags: list[str]) -> str:
    return max([current, *(_KIND[t] for t in tags)], key=_RANK.__getitem__)


def _test_id(case: ET.Element) -> str:
    classname = case.get("classname") or ""
    name = case.get("name") or ""
    return f"{classname}::{name}" if classname else name
