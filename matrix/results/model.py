"""The results model: which record speaks for a scenario, and what a cell's verdict is.

Every command that reads records answers its questions here, so ``status``, the page, the
regression issues, ``merge``, ``answer``, ``whence`` and the search commands agree:

* the *latest attempt* of a ``(cell_id, scenario)`` is the newest by ``started_at``, then
  ``attempt``, then position in the file (a merged file's order says nothing about time);
* a *scenario verdict* is that latest attempt, with the outcome ``flaky`` instead when any
  attempt said ``flaky`` or two attempts of one run disagree between ``pass`` and a failure
  (the latest alone would hide a coin toss); a flaky verdict keeps the newest signature and
  message any attempt showed;
* a *cell verdict* is the worst scenario verdict in :data:`SEVERITY` order.

The functions take any objects with the record's attribute names (typed
:class:`~matrix.results.record.Record` objects, or rows of the site's pandas frame), so the
page's tables are fed from the same rules as everything else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from matrix.define.scenarios import NAMES as SCENARIOS  # the order they run and are shown

#: Outcomes from worst to best; a cell's verdict is the first one any scenario has. A loop
#: conflict is what a user of the combination hits, so it outranks every other failure.
SEVERITY = (
    "bug",
    "fail",
    "hollow",
    "timeout",
    "flaky",
    "infra",
    "unresolvable",
    "no-interpreter",
    "pass",
)
DECIDED = frozenset({"pass", "bug", "fail"})  # outcomes that say something about the versions
BAD_OUTCOMES = frozenset({"bug", "fail", "hollow", "timeout", "flaky"})

Key = tuple[str, str]


class Attempt(Protocol):
    """What the model reads of a record."""

    cell_id: str
    scenario: str
    started_at: str
    attempt: int
    outcome: Any  # an Outcome or its string value
    run_id: str
    signature: str | None
    message: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScenarioVerdict:
    """The verdict of one ``(cell_id, scenario)``: its latest attempt, and what it says."""

    latest: Any  # the record of the latest attempt
    outcome: str
    signature: str | None
    message: str | None
    attempts: int


def scenario_rank(name: str) -> tuple[int, str]:
    """Sort key of a scenario name: run order, unknown names last."""
    return (SCENARIOS.index(name) if name in SCENARIOS else len(SCENARIOS), name)


def _order(item: tuple[int, Attempt]) -> tuple:
    position, record = item
    return (str(record.started_at or ""), int(record.attempt or 1), position)


def _value(outcome: Any) -> str:
    return getattr(outcome, "value", outcome)


def attempts(records: Iterable[Attempt]) -> dict[Key, list[Attempt]]:
    """Every attempt of each ``(cell_id, scenario)``, oldest first (see module docstring)."""
    grouped: dict[Key, list[Attempt]] = {}
    for _, record in sorted(enumerate(records), key=_order):
        grouped.setdefault((record.cell_id, record.scenario), []).append(record)
    return grouped


def latest(records: Iterable[Attempt]) -> dict[Key, Attempt]:
    """The latest attempt of each ``(cell_id, scenario)``."""
    return {key: tried[-1] for key, tried in attempts(records).items()}


def verdicts(records: Iterable[Attempt]) -> dict[Key, ScenarioVerdict]:
    """The scenario verdict of each ``(cell_id, scenario)``, sorted by cell then scenario."""
    out = {}
    for key, tried in sorted(
        attempts(records).items(), key=lambda kv: (kv[0][0], scenario_rank(kv[0][1]))
    ):
        newest = tried[-1]
        if _flaky(tried):
            out[key] = ScenarioVerdict(
                latest=newest,
                outcome="flaky",
                attempts=len(tried),
                signature=next((r.signature for r in reversed(tried) if r.signature), None),
                message=next((r.message for r in reversed(tried) if r.message), None),
            )
        else:
            out[key] = ScenarioVerdict(
                latest=newest,
                outcome=_value(newest.outcome),
                signature=newest.signature,
                message=newest.message,
                attempts=len(tried),
            )
    return out


def _flaky(tried: list[Attempt]) -> bool:
    if any(_value(r.outcome) == "flaky" for r in tried):
        return True
    by_run: dict[str, set[bool]] = {}
    for record in tried:
        if _value(record.outcome) in DECIDED:
            by_run.setdefault(record.run_id, set()).add(_value(record.outcome) != "pass")
    return any(len(failed) > 1 for failed in by_run.values())


def by_cell(found: Mapping[Key, ScenarioVerdict]) -> dict[str, dict[str, ScenarioVerdict]]:
    """Scenario verdicts grouped by cell: ``{cell_id: {scenario: verdict}}``."""
    out: dict[str, dict[str, ScenarioVerdict]] = {}
    for (cell_id, scenario), verdict in found.items():
        out.setdefault(cell_id, {})[scenario] = verdict
    return out


def worst(scenarios: Iterable[ScenarioVerdict]) -> ScenarioVerdict:
    """The verdict that speaks for a cell: the worst outcome, then the earliest scenario."""
    return min(
        scenarios,
        key=lambda v: (
            SEVERITY.index(v.outcome) if v.outcome in SEVERITY else len(SEVERITY),
            scenario_rank(v.latest.scenario),
        ),
    )


def cell_outcome(scenarios: Iterable[ScenarioVerdict]) -> str:
    """A cell's verdict: the worst of its scenario verdicts."""
    return worst(scenarios).outcome
