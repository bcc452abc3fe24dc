"""What explain finds: the changes it tries, what each showed, and the explanation.

The vocabulary the search (:mod:`matrix.search.explain`) and its report
(:mod:`matrix.search.explain_report`) share: a :class:`Step` changes one axis, a
:class:`Candidate` is the cell those steps make, a :class:`Trial` is a candidate and what it
showed, :func:`judge` says what a measured cell means (``fix``, ``workaround``, ...), and an
:class:`Explanation` is the start with every trial, ranked for telling.
"""

from __future__ import annotations

import dataclasses

from matrix.define.cell import ASYNC_PLUGIN, SYNC_PLUGIN, Cell
from matrix.results import answers
from matrix.results.record import Outcome
from matrix.search import trials
from matrix.search.trials import Observation

#: What a fix must pass unless the command names other scenarios.
DEFAULT_SCENARIOS = trials.EXPLAIN_SCENARIOS
#: Scenarios that pass when the suite changes how it runs, and how (run the e2e tests ...).
WAYS = answers.WORKAROUNDS  # the workaround scenarios, as "run the e2e tests <way>"
#: What a change of the Playwright API asks of the suite, by the plugin it moves to.
NEEDS = {
    ASYNC_PLUGIN: (
        "needs the browser tests rewritten as async (async def, await every page "
        "call) and a session-wide loop (asyncio_default_fixture_loop_scope = session "
        "and asyncio_default_test_loop_scope = session in the pytest configuration)"
    ),
    SYNC_PLUGIN: "needs the browser tests rewritten with the sync API (no async def, no await)",
    None: (
        "needs the suite's own fixtures on Playwright's async API (async_playwright() "
        "starting the browser, a page fixture from it) in place of the plugin's, and the "
        "browser tests written as async"
    ),
}
WORKAROUND_NEEDS = (
    "needs the e2e tests run last (collected after the async tests) or in their own pytest process"
)
MECHANISM = (
    "keeps pytest-playwright (sync) beside pytest-asyncio: the sync API leaves its "
    "loop marked running for the session in every Playwright and pytest-playwright "
    "release, so e2e-first cannot pass"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """One axis changed: ``old`` -> ``new`` (None: not in the cell)."""

    axis: str  # a distribution, "plugin" or "python"
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        if self.axis == "plugin" and self.new is None:
            return f"drop {self.old} (Playwright's async API in the suite's own fixtures)"
        if self.new is None:
            return f"drop {self.axis if self.axis != 'plugin' else ''} {self.old}".replace(
                "  ", " "
            )
        if self.old is None:
            return f"add {self.axis if self.axis != 'plugin' else ''} {self.new}".replace("  ", " ")
        if self.axis == "plugin":
            return f"{self.old} -> {self.new}"
        return f"{'Python' if self.axis == 'python' else self.axis} {self.old} -> {self.new}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Candidate:
    """A cell to try, the steps from the start that make it, and how eagerly to try it."""

    cell: Cell
    steps: tuple[Step, ...]
    ring: int = 1
    order: int = 0

    @property
    def size(self) -> int:
        return len(self.steps)

    @property
    def needs(self) -> str | None:
        """What the change asks of the suite's code (another Playwright API), or None."""
        step = next((s for s in self.steps if s.axis == "plugin"), None)
        names = [v.split(" ")[0] if v else None for v in (step.old, step.new)] if step else []
        return NEEDS[names[1]] if names and names[0] != names[1] else None

    @property
    def rank(self) -> tuple:
        """Smallest first; within a size, no code change first, then nearest releases."""
        return (self.size, self.needs is not None, self.ring, self.order)

    @property
    def text(self) -> str:
        return "; ".join(s.text for s in self.steps) or "no change"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trial:
    """A candidate and what it showed (or why it was not measured)."""

    candidate: Candidate
    observation: Observation | None = None
    source: str = "not tried"  # "recorded", "ran", "ruled out", "not needed", "not tried"
    reason: str | None = None  # why it was ruled out or not needed

    @property
    def verdict(self) -> str:
        """``fix``, ``workaround``, ``fails``, ``unusable``, ``incomplete`` or the source."""
        return judge(self.observation) if self.observation is not None else self.source

    @property
    def ways(self) -> tuple[str, ...]:
        """The workaround scenarios that pass."""
        obs = self.observation
        return tuple(
            s for s in WAYS if obs and obs.record(s) and obs.record(s).outcome is Outcome.PASS
        )


def judge(obs: Observation) -> str:
    """What a measured cell says: every scenario passes (``fix``), only with the e2e tests
    last or apart (``workaround``), ``fails``, ``unusable`` or ``incomplete`` (no e2e-first)."""
    if obs.unusable:
        return "unusable"
    outcomes = {r.scenario: r.outcome for r in obs.records}
    if "control" not in outcomes or ("e2e-first" not in outcomes and obs.cell.probe != "control"):
        return "incomplete"
    if all(o is Outcome.PASS for o in outcomes.values()):
        return "fix"
    if outcomes["control"] is Outcome.PASS and any(outcomes.get(s) is Outcome.PASS for s in WAYS):
        return "workaround"
    return "fails"


def sync_conflict(start: Trial) -> bool:
    """The start has the sync plugin and its e2e-first is a loop conflict (``bug``)."""
    obs = start.observation
    first = obs.record("e2e-first") if obs is not None else None
    return (
        first is not None
        and first.outcome is Outcome.BUG
        and SYNC_PLUGIN in start.candidate.cell.pin_map
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Explanation:
    """The start, every candidate considered (in that order), the budget and why it stopped."""

    start: Trial
    trials: tuple[Trial, ...]
    budget: int
    ran: int
    stopped: str = ""

    def ranked(self, verdict: str) -> list[Trial]:
        """Trials with ``verdict`` (``fix`` or ``workaround``), smallest change first."""
        found = [(n, t) for n, t in enumerate((self.start, *self.trials)) if t.verdict == verdict]
        found.sort(key=lambda p: (p[1].candidate.rank, p[0]))  # then in the order tried
        return [t for _, t in found]

    def listed(self) -> list[Trial]:
        """What to tell: fixes with no code change, fixes that need code changes, then
        workarounds; a result is left out when a listed one needs a subset of its changes
        (and no other code change)."""
        fixes = self.ranked("fix")
        kept: list[Trial] = []
        for trial in (
            [t for t in fixes if t.candidate.needs is None]
            + [t for t in fixes if t.candidate.needs is not None]
            + self.ranked("workaround")
        ):
            if not any(_dominates(k, trial) for k in kept):
                kept.append(trial)
        return kept


def _dominates(kept: Trial, other: Trial) -> bool:
    return set(kept.candidate.steps) <= set(other.candidate.steps) and kept.candidate.needs in (
        None,
        other.candidate.needs,
    )
