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
    Scenario(name="as-is", runs=((),), browser=False, playwright=False,
             description="a user's suite run as its own configuration says (suites only)"),
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


def for_suite(cell: Cell, suite, wanted: tuple[str, ...] = NAMES) -> list[Scenario]:
    """Scenarios of ``wanted`` for a user's suite: control always (first), as-is when
    wanted, e2e first and last when it has e2e tests.

    Its control is everything but the e2e folder (or the whole suite when there is none).
    """
    others = suite.others
    paths: dict[str, tuple[tuple[str, ...], ...]] = {"control": (others,) if suite.e2e else ((),),
                                                     "as-is": ((),)}
    if suite.e2e:
        paths.update({"e2e-first": ((suite.e2e, *others),), "e2e-last": ((*others, suite.e2e),),
                      "isolated": ((suite.e2e,), others)})
        paths.update({"e2e-first-cov": paths["e2e-first"], "e2e-last-cov": paths["e2e-last"]})
    chosen = []
    for name in ("control", *(("as-is",) if "as-is" in wanted else ()), *wanted):
        scenario = BY_NAME[name]
        if name in paths and not any(s.name == name for s in chosen) and (
                cell.has_coverage or not scenario.coverage):
            chosen.append(dataclasses.replace(scenario, runs=paths[name], browser=False))
    return chosen
