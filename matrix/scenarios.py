"""Scenarios: the ways one probe suite is run, each as its own pytest process."""

from __future__ import annotations

import dataclasses

from matrix.cell import Cell

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


ALL: tuple[Scenario, ...] = (
    Scenario(name="control", runs=(ASYNC_ONLY,), browser=False, playwright=False,
             description="the async tests alone: what pytest x pytest-asyncio do without Playwright"),
    Scenario(name="e2e-first", runs=((E2E, INTEGRATION, UNIT),),
             description="browser tests collected first, as in the reported project"),
    Scenario(name="e2e-first-cov", runs=((E2E, INTEGRATION, UNIT),), coverage=True,
             description="e2e-first with --cov"),
    Scenario(name="e2e-last", runs=((UNIT, INTEGRATION, E2E),),
             description="browser tests collected last"),
    Scenario(name="e2e-last-cov", runs=((UNIT, INTEGRATION, E2E),), coverage=True,
             description="e2e-last with --cov"),
    Scenario(name="driver-only", runs=((DRIVER, INTEGRATION, UNIT),), browser=False,
             description="the session playwright fixture used without launching a browser"),
    Scenario(name="isolated", runs=((E2E,), ASYNC_ONLY),
             description="e2e and async tests in separate processes (the known workaround)"),
)
BY_NAME = {s.name: s for s in ALL}
NAMES = tuple(BY_NAME)


def for_cell(cell: Cell, wanted: tuple[str, ...] = NAMES) -> list[Scenario]:
    """The scenarios of ``wanted`` that make sense for ``cell``, control always first.

    Coverage scenarios need pytest-cov pinned; Playwright scenarios need Playwright.
    """
    chosen = []
    for name in ("control", *[n for n in wanted if n != "control"]):
        scenario = BY_NAME[name]
        if scenario.playwright and cell.probe == "control":
            continue
        if scenario.coverage and not cell.has_coverage:
            continue
        chosen.append(scenario)
    return chosen
