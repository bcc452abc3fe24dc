"""pytest-loop-compat: names the event-loop conflict between Playwright's sync API and
pytest-asyncio in the user's own run, and (opt-in) guards against it.

Installed, it loads itself (``pytest11`` entry point ``loop_compat``; ``-p no:loop_compat``
disables it).

*Diagnosis* (always on, silent when nothing is wrong): after each fixture's setup and
each test phase it notices when the thread is left with a running event loop that no test
is running (Playwright's sync API leaves its own loop so), and remembers the first test
and fixture that left it. When a failure of the run matches a loop-conflict signature of
the catalogue, pytest's terminal summary gets a ``loop-compat`` section: the signature and
what it means, the tests it hit, that first test, the installed versions, the verdict for
them and the fixes measured to work and not to work. ``--loop-compat-json PATH`` writes the
same as JSON; on GitHub Actions a ``::warning::`` annotation names the test. The exit code
and every test's outcome stay as they are.

*Guard* (``--loop-compat-guard`` or ``loop_compat_guard = true``): see
:mod:`matrix.plugin.guard`. It refuses with one line, wrapping nothing, when Playwright's
internals it wraps are not there or the installed versions are measured not to work with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import importlib.metadata
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from matrix.define.cell import DISTRIBUTIONS
from matrix.plugin import guard

logger = logging.getLogger("loop_compat")
NAME = "loop-compat-watcher"  # the registered Watcher (config.pluginmanager.get_plugin(NAME))
SCHEMA = 1  # of the JSON written by --loop-compat-json
LISTED = 5  # tests named per signature in the summary (the JSON has them all)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loop-compat", "loop-compat (Playwright's sync API x pytest-asyncio)")
    group.addoption(
        "--loop-compat-guard",
        action="store_true",
        default=None,
        help="mark Playwright's loop as running only during each sync API call, "
        "so pytest-asyncio can run its own loop between calls",
    )
    group.addoption(
        "--loop-compat-json", metavar="PATH", help="write the diagnosis as JSON to PATH"
    )
    group.addoption(
        "--loop-compat-from",
        metavar="SOURCE",
        help="answer from these records (a results folder, results.jsonl or a "
        "published results.json) instead of the reference dataset shipped",
    )
    parser.addini(
        "loop_compat_guard",
        type="bool",
        default=False,
        help="switch the loop-compat guard on (as --loop-compat-guard)",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    watcher = Watcher(config)
    config.pluginmanager.register(watcher, NAME)
    wanted = config.getoption("loop_compat_guard") or config.getini("loop_compat_guard")
    if wanted:
        watcher.guard, watcher.refusal = switch_on(
            watcher.versions(), config.getoption("loop_compat_from")
        )
        if watcher.refusal:
            _say(config, f"loop-compat: guard refused, nothing changed: {watcher.refusal}")


def pytest_unconfigure(config: pytest.Config) -> None:
    guard.uninstall()


def switch_on(versions: dict[str, str], given: str | None) -> tuple[bool, str | None]:
    """Install the guard, or say why not (Playwright's internals missing, or the installed
    versions measured not to work with it)."""
    gone = guard.missing()
    if gone:
        return False, f"Playwright's internals it wraps are not there ({', '.join(gone)})"
    try:
        from matrix.plugin.advice import answer_for

        broken = answer_for(versions, python_minor(), given).guard_breaks
    except Exception as exc:  # the records are advice: their absence never stops the guard
        logger.debug("no records for the guard check: %s", exc)
        broken = None
    if broken:
        return False, f"measured not to work with these versions: {broken}"
    guard.install()
    return True, None


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, yellow=True)
    else:
        print(line, file=sys.stderr)


def python_minor() -> str:
    return "{}.{}".format(*sys.version_info[:2])


@dataclasses.dataclass(frozen=True)
class Leftover:
    """The first test that left a running loop behind, and where."""

    test: str  # node id
    phase: str  # setup, call or teardown
    fixture: str | None  # the fixture whose setup left it, if one did
    owner: str | None  # who provides that fixture: a distribution and version, or a file

    def text(self) -> str:
        where = (
            f"fixture '{self.fixture}'" + (f" of {self.owner}" if self.owner else "")
            if self.fixture
            else f"the test's {self.phase}"
        )
        return f"{self.test} ({where})"


class Watcher:
    """Notices the loops left running and the loop-conflict failures of one session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outside = asyncio._get_running_loop()  # a loop pytest itself runs under
        self.left: Leftover | None = None
        self.hits: dict[str, list[str]] = {}  # signature id -> node ids, in order
        self.examples: dict[str, str] = {}  # signature id -> the first failure line seen
        self.current: str | None = None
        self.guard = False  # the guard is installed
        self.refusal: str | None = None  # why it was asked for and refused
        self.paused_gc = False  # garbage collection paused from the summary to unconfigure

    def _leftover(self) -> bool:
        loop = asyncio._get_running_loop()
        return loop is not None and loop is not self.outside

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any):
        before = self._leftover()
        yield
        if self.left is None and not before and self._leftover():
            self.left = Leftover(
                self.current or request.node.nodeid,
                "setup",
                fixturedef.argname,
                owner_of(fixturedef.func),
            )

    def _phase(self, item: pytest.Item, phase: str):
        self.current = item.nodeid
        yield
        if self.left is None and self._leftover():
            self.left = Leftover(item.nodeid, phase, None, None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        yield from self._phase(item, "setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        yield from self._phase(item, "call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item):
        yield from self._phase(item, "teardown")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        from matrix.results import signatures

        text = report.longreprtext or ""
        sig = signatures.match(text)
        if sig is None or not sig.loop_conflict:
            return
        tests = self.hits.setdefault(sig.id, [])
        if report.nodeid not in tests:
            tests.append(report.nodeid)
        self.examples.setdefault(sig.id, _line_of(text, sig.pattern) or sig.example)

    def versions(self) -> dict[str, str]:
        return installed_versions()

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The section, the JSON and the annotation; never a change to the run's outcome."""
        path = self.config.getoption("loop_compat_json")
        if not self.hits and not path:
            return
        # No garbage collection from here to the end of the session: reading the records
        # would otherwise collect the failed tests' never-awaited coroutines inside pytest's
        # terminal summary, and their RuntimeWarnings would join the run's warnings count
        # (its "warnings summary (final)"); switched back on at unconfigure, so they are
        # collected after the summary, as without the plugin.
        if gc.isenabled() and not self.paused_gc:
            gc.disable()
            self.paused_gc = True
        self._summary(terminalreporter, path)

    def pytest_unconfigure(self) -> None:
        if self.paused_gc:
            self.paused_gc = False
            gc.enable()

    def _summary(self, terminalreporter: Any, path: str | None) -> None:
        try:
            finding = self.finding()
            if path:
                Path(path).write_text(json.dumps(finding, indent=1) + "\n", encoding="utf-8")
            if not self.hits:
                return
            terminalreporter.write_sep("=", "loop-compat: event loop conflict", yellow=True)
            for line in summary_lines(finding):
                terminalreporter.write_line(line)
            if os.environ.get("GITHUB_ACTIONS") == "true":
                terminalreporter.write_line(annotation(finding))
        except Exception as exc:  # a diagnosis that breaks must not break the run
            terminalreporter.write_line(f"loop-compat: no diagnosis ({type(exc).__name__}: {exc})")

    def finding(self) -> dict[str, Any]:
        """The diagnosis as data (the JSON keys are documented in the README)."""
        from matrix.results import signatures

        versions = self.versions()
        python = python_minor()
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "conflict": bool(self.hits),
            "signatures": [
                {
                    "id": sid,
                    "meaning": signatures.BY_ID[sid].meaning,
                    "message": self.examples.get(sid),
                    "count": len(tests),
                    "tests": tests,
                }
                for sid, tests in self.hits.items()
            ],
            "left_running": dataclasses.asdict(self.left) if self.left else None,
            "python": python,
            "installed": versions,
            "guard": "on" if self.guard else "off",
            "guard_refused": self.refusal,
            "guarded_calls": guard.CALLS.count if self.guard else 0,
        }
        if self.hits:
            out["answer"] = _answer(versions, python, self.config.getoption("loop_compat_from"))
        return out


def _answer(versions: dict[str, str], python: str, given: str | None) -> dict[str, Any]:
    try:
        from matrix.plugin.advice import answer_for

        return dataclasses.asdict(answer_for(versions, python, given))
    except Exception as exc:  # no records: the rest of the diagnosis still holds
        return {
            "verdict": "unknown",
            "basis": "unknown",
            "cells": [],
            "why": "",
            "fixes": [],
            "not_working": [],
            "guard_breaks": None,
            "source": f"no records could be read ({type(exc).__name__}: {exc})",
        }


def summary_lines(f: dict[str, Any]) -> list[str]:
    """The terminal summary section's lines (its format is documented in the README)."""
    lines = []
    for sig in f["signatures"]:
        shown = ", ".join(sig["tests"][:LISTED])
        more = f", and {sig['count'] - LISTED} more" if sig["count"] > LISTED else ""
        lines += [
            f"{sig['id']}: {sig['count']} test(s) failed with: {sig['message']}",
            f"  what it means: {sig['meaning']}",
            f"  hit: {shown}{more}",
        ]
    left = f["left_running"]
    lines.append(
        "first test that left a running loop behind: "
        + (
            Leftover(**left).text()
            if left
            else "none seen (the loop was set outside any test phase)"
        )
    )
    installed = ", ".join(f"{d} {v}" for d, v in f["installed"].items())
    lines.append(f"installed: Python {f['python']}, {installed}")
    a = f["answer"]
    cells = f" [{', '.join(a['cells'])}]" if a["cells"] else ""
    lines.append(
        f"verdict for these versions: {a['verdict']} ({a['basis']}{cells}; from {a['source']})"
        if a["basis"] != "unknown"
        else f"verdict for these versions: unknown: {a.get('why') or 'nothing measured near them'}"
        + (f"{cells}" if cells else "")
        + f" (from {a['source']})"
    )
    if a["fixes"]:
        lines.append("fixes that work for these versions (measured or inferred), smallest first:")
        lines += [f"  {n}. {fix}" for n, fix in enumerate(a["fixes"], 1)]
    if a["not_working"]:
        lines.append("measured not to work:")
        lines += [f"  - {text}" for text in a["not_working"]]
    if f["guard"] == "off":
        lines.append(
            "opt-in: --loop-compat-guard confines Playwright's running-loop mark "
            "to each sync call"
            + (f" (measured not to work here: {a['guard_breaks']})" if a["guard_breaks"] else "")
        )
    return lines


def annotation(f: dict[str, Any]) -> str:
    """One GitHub Actions ``::warning::`` line naming the test that left the loop running."""
    left = f["left_running"]
    first = f["signatures"][0]
    where = f"file={left['test'].split('::')[0]}," if left else ""
    text = (
        f"{first['id']}: {sum(s['count'] for s in f['signatures'])} test(s) failed; "
        + (
            f"first left a running loop: {Leftover(**left).text()}"
            if left
            else "Playwright's sync API left its loop running"
        )
        + f"; verdict {f['answer']['verdict']} ({f['answer']['basis']})"
    )
    return f"::warning {where}title=loop-compat::{_escape(text)}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _line_of(text: str, pattern: Any) -> str | None:
    """The ``E   `` line of pytest's report that says it (None: a source line only)."""
    said = [
        line[1:].strip()
        for line in text.splitlines()
        if line.startswith("E ") and pattern.search(line)
    ]
    return said[0] if said else None


def installed_versions() -> dict[str, str]:
    """The installed versions of the distributions under test (from their metadata)."""
    found = {}
    for dist in DISTRIBUTIONS:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def owner_of(func: Any) -> str | None:
    """Who provides a fixture: ``pytest-playwright 0.7.1`` for an installed distribution,
    else the file it is defined in (a conftest)."""
    func = getattr(func, "__wrapped__", func)
    module = getattr(func, "__module__", "") or ""
    for dist in _distributions().get(module.split(".")[0], []):
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    path = getattr(getattr(func, "__code__", None), "co_filename", None)
    if path:
        try:
            return str(Path(path).resolve().relative_to(Path.cwd()))
        except ValueError:
            return Path(path).name
    return module or None
