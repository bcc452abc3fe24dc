"""The answer a suite's owner wants: the newest combination that passes, the pins to
write, and where the suite's current pins stand, from the records alone.

Every rule here is the answer engine's (:mod:`matrix.results.answers`): which records are
the suite's, a cell's verdict (a pass retried after a failure in one run is ``flaky``),
what passes, which is newest, and the workaround scenarios.
"""

from __future__ import annotations

from collections.abc import Iterable

from matrix.results import answers
from matrix.results.answers import CellResult
from matrix.results.record import Record

#: The workaround scenarios in words, the separate process offered first.
WORKAROUND_WORDS = {
    name: f"with the browser tests run {answers.WORKAROUNDS[name]}"
    for name in ("isolated", "e2e-last")
}


def cells(key: str, records: Iterable[Record]) -> dict[str, CellResult]:
    """The suite's cells (every variant), by id."""
    return {c.cell_id: c for c in answers.cells(records, variant=None, suite=key)}


def for_suite(key: str, records: Iterable[Record], declared: dict[str, str]) -> list[str]:
    """Lines that answer "which versions should this suite pin?".

    Where the suite's current pins stand; the smallest change from them under which the
    whole suite passes with no code change; and, separately, the changes that would pass
    only once browser tests are rewritten (a ``hollow`` cell: its sync browser tests
    received async Playwright objects). A hollow run is never recommended.
    """
    mine = cells(key, records)
    lines = [f"suite {key}: {len(mine)} combinations measured" + _found(mine.values())]
    lines.append(_current(mine.values(), declared))
    best = smallest([c for c in mine.values() if c.passes], declared)
    if best:
        lines.append(
            f"  smallest change where the whole suite passes, no code change: {_describe(best)}"
        )
        lines.append(f"  pins to write: {_pins(best)}")
    else:
        lines.append("  no measured combination passes every way of running the suite")
        for scenario, how in WORKAROUND_WORDS.items():
            fallback = smallest([c for c in mine.values() if c.passes_when(scenario)], declared)
            if fallback:
                lines.append(f"  it passes {how} under: {_describe(fallback)}")
                lines.append(f"  pins to write: {_pins(fallback)}")
                break
    return lines + _code_changes(mine.values(), declared)


def smallest(candidates: list[CellResult], declared: dict[str, str]) -> CellResult | None:
    """The candidate that changes fewest of the declared pins; the newest among equals."""

    def changes(cell: CellResult) -> int:
        return sum(cell.requested.get(d) != v for d, v in declared.items())

    fewest = min(map(changes, candidates), default=None)
    return answers.newest(c for c in candidates if changes(c) == fewest)


def _code_changes(mine: Iterable[CellResult], declared: dict[str, str]) -> list[str]:
    """Cells where the suite passes only hollow: fixes that need browser tests rewritten."""
    hollow = [
        c
        for c in mine
        if c.verdict == "hollow"
        and all(v.outcome in ("pass", "hollow") for v in c.scenarios.values())
    ]
    best = smallest(hollow, declared)
    if best is None:
        return []
    tests = {h.split(": ", 1)[0] for v in best.scenarios.values() for h in v.latest.hollow}
    line = (
        f"  needs code changes: under {_describe(best)} every test passes only hollow "
        f"(browser code never ran); it needs {len(tests)} browser tests rewritten as async "
        "(not measured rewritten; ranked after every change that needs none)"
    )
    return [line]


def _found(mine: Iterable[CellResult]) -> str:
    found = next(
        (v.latest.found for c in mine for v in c.scenarios.values() if v.latest.found), None
    )
    if not found:
        return ""
    return (
        f"; {found['tests']} tests, {found['browser']} use Playwright, {found['async']} are async"
    )


def _current(mine: Iterable[CellResult], declared: dict[str, str]) -> str:
    if not declared:
        return "  your pins: the suite pins none of the distributions under test exactly"
    text = ", ".join(f"{d} {v}" for d, v in sorted(declared.items()))
    for cell in mine:
        if all(cell.requested.get(d) == v for d, v in declared.items()):
            return f"  your pins ({text}): {_verdict(cell)}"
    return f"  your pins ({text}) were not among the measured combinations"


def _verdict(cell: CellResult) -> str:
    bad = [(name, v) for name, v in cell.scenarios.items() if v.outcome != "pass"]
    if not bad:
        return "every scenario passes"
    return "; ".join(
        f"{name} {v.outcome}" + (f" ({v.signature})" if v.signature else "") for name, v in bad
    )


def _describe(cell: CellResult) -> str:
    return ", ".join(f"{k} {v}" for k, v in cell.requested.items())


def _pins(cell: CellResult) -> str:
    return " ".join(f"{k}=={v}" for k, v in cell.requested.items() if k != "python")
