"""The answer a suite's owner wants: the newest combination that passes, the pins to
write, and where the suite's current pins stand, from the records alone."""

from __future__ import annotations

from collections.abc import Iterable
from packaging.version import InvalidVersion, Version

from matrix.define.cell import ASYNC_PLUGIN, SYNC_PLUGIN
from matrix.results import model
from matrix.results.record import Outcome, Record

#: What "newest" compares, most significant first.
ORDER = (SYNC_PLUGIN, ASYNC_PLUGIN, "pytest-asyncio", "pytest", "playwright", "python",
         "pytest-cov", "coverage")
WORKAROUNDS = {"isolated": "with the browser tests in a separate pytest process",
               "e2e-last": "with the browser tests run after the others"}


def cells(records: Iterable[Record]) -> dict[str, dict[str, Record]]:
    """The latest attempt of each scenario (see :mod:`matrix.results.model`), per cell."""
    out: dict[str, dict[str, Record]] = {}
    for (cell_id, scenario), record in model.latest(records).items():
        out.setdefault(cell_id, {})[scenario] = record
    return out


def newest(candidates: list[dict[str, Record]]) -> dict[str, Record] | None:
    """The candidate cell with the newest versions (see :data:`ORDER`)."""
    def key(scenarios: dict[str, Record]) -> tuple:
        requested = next(iter(scenarios.values())).requested
        return tuple(_version(requested.get(dist)) for dist in ORDER)

    return max(candidates, key=key, default=None)


def suite_records(key: str, records: Iterable[Record]) -> list[Record]:
    """The records of one suite (by its key; records made before keys by ``probe``)."""
    return [r for r in records if r.suite == key or (r.suite is None and r.probe == f"suite:{key}")]


def for_suite(key: str, records: Iterable[Record], declared: dict[str, str]) -> list[str]:
    """Lines that answer "which versions should this suite pin?".

    Where the suite's current pins stand; the smallest change from them under which the
    whole suite passes with no code change; and, separately, the changes that would pass
    only once browser tests are rewritten (a ``hollow`` cell: its sync browser tests
    received async Playwright objects). A hollow run is never recommended.
    """
    mine = cells(suite_records(key, records))
    lines = [f"suite {key}: {len(mine)} combinations measured" + _found(mine)]
    lines.append(_current(mine, declared))
    passing = [s for s in mine.values() if all(r.outcome is Outcome.PASS for r in s.values())]
    best = smallest(passing, declared)
    if best:
        lines.append(f"  smallest change where the whole suite passes, no code change: {_describe(best)}")
        lines.append(f"  pins to write: {_pins(best)}")
    else:
        lines.append("  no measured combination passes every way of running the suite")
        for scenario, how in WORKAROUNDS.items():
            fallback = smallest([s for s in mine.values() if _passes(s, scenario)], declared)
            if fallback:
                lines.append(f"  it passes {how} under: {_describe(fallback)}")
                lines.append(f"  pins to write: {_pins(fallback)}")
                break
    return lines + _code_changes(mine, declared)


def smallest(candidates: list[dict[str, Record]], declared: dict[str, str]) -> dict[str, Record] | None:
    """The candidate that changes fewest of the declared pins; the newest among equals."""
    def changes(scenarios: dict[str, Record]) -> int:
        requested = next(iter(scenarios.values())).requested
        return sum(requested.get(d) != v for d, v in declared.items())

    fewest = min(map(changes, candidates), default=None)
    return newest([c for c in candidates if changes(c) == fewest])


def _code_changes(mine: dict[str, dict[str, Record]], declared: dict[str, str]) -> list[str]:
    """Cells where the suite passes only hollow: fixes that need browser tests rewritten."""
    hollow = [s for s in mine.values()
              if all(r.outcome in (Outcome.PASS, Outcome.HOLLOW) for r in s.values())
              and any(r.outcome is Outcome.HOLLOW for r in s.values())]
    best = smallest(hollow, declared)
    if best is None:
        return []
    tests = {h.split(": ", 1)[0] for r in best.values() for h in r.hollow}
    line = (f"  needs code changes: under {_describe(best)} every test passes only hollow "
            f"(browser code never ran); it needs {len(tests)} browser tests rewritten as async "
            "(not measured rewritten; ranked after every change that needs none)")
    return [line]


def _found(mine: dict[str, dict[str, Record]]) -> str:
    found = next((r.found for s in mine.values() for r in s.values() if r.found), None)
    if not found:
        return ""
    return (f"; {found['tests']} tests, {found['browser']} use Playwright, "
            f"{found['async']} are async")


def _current(mine: dict[str, dict[str, Record]], declared: dict[str, str]) -> str:
    if not declared:
        return "  your pins: the suite pins none of the distributions under test exactly"
    text = ", ".join(f"{d} {v}" for d, v in sorted(declared.items()))
    for scenarios in mine.values():
        requested = next(iter(scenarios.values())).requested
        if all(requested.get(d) == v for d, v in declared.items()):
            return f"  your pins ({text}): {_verdict(scenarios)}"
    return f"  your pins ({text}) were not among the measured combinations"


def _verdict(scenarios: dict[str, Record]) -> str:
    bad = [r for r in scenarios.values() if r.outcome is not Outcome.PASS]
    if not bad:
        return "every scenario passes"
    return "; ".join(f"{r.scenario} {r.outcome.value}" + (f" ({r.signature})" if r.signature else "")
                     for r in bad)


def _passes(scenarios: dict[str, Record], scenario: str) -> bool:
    record = scenarios.get(scenario)
    return record is not None and record.outcome is Outcome.PASS and all(
        r.outcome is Outcome.PASS for s, r in scenarios.items() if s == "control")


def _describe(scenarios: dict[str, Record]) -> str:
    requested = next(iter(scenarios.values())).requested
    return ", ".join(f"{k} {v}" for k, v in requested.items())


def _pins(scenarios: dict[str, Record]) -> str:
    requested = next(iter(scenarios.values())).requested
    return " ".join(f"{k}=={v}" for k, v in requested.items() if k != "python")


def _version(text: str | None) -> tuple:
    if text is None:
        return (0,)
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (0,)
