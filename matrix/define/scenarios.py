"""Scenarios: the ways one probe suite is run, each as its own pytest process."""

from __future__ import annotations

import dataclasses

from matrix.define.cell import Cell

E2E, DRIVER, UNIT, INTEGRATION = "tests/e2e", "tests/driver", "tests/unit", "tests/integration"
ASYNC_ONLY = (UNIT, INTEGRATION)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """One way to run a probe: the pytest processes and what they need."""

    name: str
    runs: tuple[tuple[str, ...], ...]  # each inner tuple is one pytest process's paths
    coverage: bool = False
    browser: bool = True
    playwright: bool = True  # needs Playwright in the cell at all
    description: str = ""
    #: How it runs the same suite another way, as advice ("run the e2e tests <this>"): a
    #: workaround reported beside the verdict, never a fix of the versions; "" when none.
    workaround: str = ""
    #: A user's suite: per pytest process, which tests by what they use (``all``,
    #: ``browser``, ``other``) or the browser tests moved ``first`` or ``last``.
    selections: tuple[str, ...] = ()


ALL: tuple[Scenario, ...] = (
    Scenario(
        name="control",
        runs=(ASYNC_ONLY,),
        browser=False,
        playwright=False,
        description="the async tests alone: what pytest x pytest-asyncio do without Playwright",
    ),
    Scenario(
        name="e2e-first",
        runs=((E2E, INTEGRATION, UNIT),),
        description="browser tests collected first, as in the reported project",
    ),
    Scenario(
        name="e2e-first-cov",
        runs=((E2E, INTEGRATION, UNIT),),
        coverage=True,
        description="e2e-first with --cov",
    ),
    Scenario(
        name="e2e-last",
        runs=((UNIT, INTEGRATION, E2E),),
        workaround="after the async tests",
        description="browser tests collected last",
    ),
    Scenario(
        name="e2e-last-cov",
        runs=((UNIT, INTEGRATION, E2E),),
        coverage=True,
        workaround="after the async tests (with --cov)",
        description="e2e-last with --cov",
    ),
    Scenario(
        name="driver-only",
        runs=((DRIVER, INTEGRATION, UNIT),),
        browser=False,
        description="the session playwright fixture used without launching a browser",
    ),
    Scenario(
        name="isolated",
        runs=((E2E,), ASYNC_ONLY),
        workaround="in a separate pytest process",
        description="e2e and async tests in separate processes (the known workaround)",
    ),
    Scenario(
        name="as-is",
        runs=((),),
        browser=False,
        playwright=False,
        description="a user's suite run as its own configuration says (suites only)",
    ),
)
BY_NAME = {s.name: s for s in ALL}
NAMES = tuple(BY_NAME)


def for_cell(cell: Cell, wanted: tuple[str, ...] = NAMES, suite=None) -> list[Scenario]:
    """The scenarios of ``wanted`` that make sense for ``cell``, control always first.

    Coverage scenarios need pytest-cov pinned; Playwright scenarios need Playwright. A
    user's suite gets its own paths (see :func:`for_suite`).
    """
    if suite is not None:
        return for_suite(cell, suite, wanted)
    chosen = []
    for name in ("control", *[n for n in wanted if n not in ("control", "as-is")]):
        scenario = BY_NAME[name]
        if scenario.playwright and cell.probe == "control":
            continue
        if scenario.coverage and not cell.has_coverage:
            continue
        chosen.append(scenario)
    return chosen


#: A user's suite: what each scenario runs, from the tests found by what they use.
SUITE_SELECTIONS: dict[str, tuple[str, ...]] = {
    "control": ("other",),
    "as-is": ("all",),
    "e2e-first": ("first",),
    "e2e-first-cov": ("first",),
    "e2e-last": ("last",),
    "e2e-last-cov": ("last",),
    "isolated": ("browser", "other"),
}
#: The suite scenarios that only mean something when the suite has browser tests.
BROWSER_ONLY = ("e2e-first", "e2e-first-cov", "e2e-last", "e2e-last-cov", "isolated")


def for_suite(cell: Cell, suite, wanted: tuple[str, ...] = NAMES) -> list[Scenario]:
    """Scenarios for a user's suite, built from test ids rather than folders.

    ``control`` (always, first) is the suite without its browser tests, ``as-is`` (when
    wanted) its own order, and
    ``e2e-first`` / ``e2e-last`` / ``isolated`` move the browser tests (found by the
    fixtures and imports they use, in whatever folder) first, last, or into a process of
    their own. The runner drops the browser scenarios when the suite has no browser test.
    """
    chosen = []
    for name in ("control", *(("as-is",) if "as-is" in wanted else ()), *wanted):
        scenario = BY_NAME[name]
        if (
            name in SUITE_SELECTIONS
            and not any(s.name == name for s in chosen)
            and (cell.has_coverage or not scenario.coverage)
        ):
            selections = SUITE_SELECTIONS[name]
            chosen.append(
                dataclasses.replace(
                    scenario, runs=((),) * len(selections), selections=selections, browser=False
                )
            )
    return chosen
