"""What the product's pytest plugin finds in a user's suite, and what the runner makes of it.

The plugin (:mod:`matrix.measure.pytest_plugin`) is copied beside the suite's copy and
loaded with ``-p``; it writes a JSON report per pytest process. This module places it,
gives it its settings, reads its reports and turns a passing run whose browser code never
ran into ``hollow``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

from matrix.measure import browser
from matrix.results.record import Outcome
from matrix.results.signatures import Verdict

PLUGIN = Path(__file__).with_name("pytest_plugin.py")
MODULE = "matrix_suite_plugin"
#: Python's own warning for a coroutine that was dropped without being awaited.
NEVER_AWAITED = re.compile(r"RuntimeWarning: (coroutine '[^']+' was never awaited)")
LISTED = 5  # tests named in a record's message; the record's ``hollow`` field has them all


@dataclasses.dataclass(frozen=True)
class Report:
    """One pytest process's report: the collected tests and those that passed hollow."""

    tests: tuple[dict, ...] = ()
    hollow: tuple[str, ...] = ()  # "test id: why"

    @property
    def counts(self) -> dict[str, int]:
        """How many tests were collected, use Playwright, are async."""
        return {
            "tests": len(self.tests),
            "browser": sum(t["browser"] for t in self.tests),
            "async": sum(t["async"] for t in self.tests),
        }


def place(work: Path) -> Path:
    """Copy the plugin into ``work`` (outside the suite's copy); the folder for PYTHONPATH."""
    folder = work / "matrix-plugin"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PLUGIN, folder / f"{MODULE}.py")
    return folder


def settings(report: Path, selection: str, chromium: Path | None) -> list[str]:
    """The plugin's settings for one pytest process, as ``-o name=value`` arguments."""
    out = {"matrix_suite_report": str(report)}
    if selection in ("browser", "other"):
        out["matrix_suite_select"] = selection
    if selection in ("first", "last"):
        out["matrix_suite_order"] = selection
    return [arg for name, value in out.items() for arg in ("-o", f"{name}={value}")] + browser.ini(
        chromium
    )


def read(path: Path) -> Report | None:
    """The plugin's report, or None when pytest ended before writing it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    hollow = tuple(f"{h['id']}: {h['reason']}" for h in data.get("hollow", []))
    return Report(tests=tuple(data.get("tests", [])), hollow=hollow)


def never_awaited(log: Path) -> tuple[str, ...]:
    """Never-awaited coroutines in a log (for runs without the plugin's report)."""
    text = log.read_text(errors="replace")
    return tuple(dict.fromkeys(m.group(1) for m in NEVER_AWAITED.finditer(text)))


def hollow(verdict: Verdict, tests: tuple[str, ...]) -> Verdict:
    """A pass whose browser code never ran is ``hollow``, naming the tests; others stay."""
    if verdict.outcome is not Outcome.PASS or not tests:
        return verdict
    named = "; ".join(tests[:LISTED]) + (
        f"; and {len(tests) - LISTED} more" if len(tests) > LISTED else ""
    )
    return Verdict(
        outcome=Outcome.HOLLOW,
        signature="never-awaited",
        hollow=tests,
        control_signature=verdict.control_signature,
        message=f"{len(tests)} test(s) passed without running their browser code: {named}",
    )


def note(counts: dict[str, int]) -> str:
    """What a record says about the tests found."""
    text = (
        f"{counts['tests']} tests collected: {counts['browser']} use Playwright, "
        f"{counts['async']} are async"
    )
    if counts["browser"] == 0:
        text += (
            "; no browser test found (no test requests a Playwright fixture or imports "
            "Playwright), so only control and as-is ran"
        )
    return text
