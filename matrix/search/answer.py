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
WORKAROUNDS = {"isolated": "with the e2e tests in a separate pytest process",
               "e2e-last": "with the e2e tests collected after the async tests"}


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


def for_suite(name: str, records: Iterable[Record], declared: dict[str, str]) -> list[str]:
    """Lines that answer "which versions should this suite pin?"."""
    mine = {cid: s for cid, s in cells(records).items()
            if next(iter(s.values())).probe == f"suite:{name}"}
    lines = [f"suite {name}: {len(mine)} combinations measured"]
    lines.append(_current(mine, declared))
    passing = [s for s in mine.values() if all(r.outcome is Outcome.PASS for r in s.values())]
    best = newest(passing)
    if best:
        lines.append(f"  newest combination where the whole suite passes: {_describe(best)}")
        lines.append(f"  pins to write: {_pins(best)}")
        return lines
    lines.append("  no measured combination passes every way of running the suite")
    for scenario, how in WORKAROUNDS.items():
        fallback = newest([s for s in mine.values() if _passes(s, scenario)])
        if fallback:
            lines.append(f"  it passes {how} under: {_describe(fallback)}")
            lines.append(f"  pins to write: {_pins(fallback)}")
            break
    return lines


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
