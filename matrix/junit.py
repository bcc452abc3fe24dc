"""Reading pytest's JUnit XML: counts and failures, never regexes over terminal output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from matrix.record import Counts
from matrix.signatures import Failure


def read(path: Path) -> tuple[Counts, list[Failure]] | None:
    """Counts and failing tests from a JUnit XML file; None if there is no usable file.

    pytest writes the file at the end of the session, so a run that crashed at startup
    or was killed has none: the caller then falls back on the log.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    counts = Counts()
    failures: list[Failure] = []
    for case in root.iter("testcase"):
        test = _test_id(case)
        problem = case.find("failure")
        kind = "failed"
        if problem is None:
            problem = case.find("error")
            kind = "errors"
        if problem is not None:
            failures.append(Failure(test=test, message=problem.get("message") or "",
                                    text=problem.text or ""))
            counts = counts + Counts(**{kind: 1})
        elif case.find("skipped") is not None:
            counts = counts + Counts(skipped=1)
        else:
            counts = counts + Counts(passed=1)
    return counts, failures


def _test_id(case: ET.Element) -> str:
    classname = case.get("classname") or ""
    name = case.get("name") or ""
    return f"{classname}::{name}" if classname else name
