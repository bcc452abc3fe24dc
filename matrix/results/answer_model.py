"""The answer engine's vocabulary: a :class:`Query` (pins to answer for) and its
:class:`Answer` (verdict, kind, evidence, :class:`Reason` per differing pin, ranked
:class:`Fix` es), as every command, the page and the plugin print and serialise them.
The rules that make answers are :mod:`matrix.results.answers`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from matrix.define.cell import ASYNC_PLUGIN, DISTRIBUTIONS, SYNC_PLUGIN
from matrix.results.cells import (
    ABSENT,
    DECIDED,
    WORKAROUNDS,
    CellResult,
    axis_values,
    describe,
)

#: Exit codes of an answer used as a gate: good, bad, and nothing can be said.
GOOD, BAD, UNKNOWN = 0, 1, 8


# --------------------------------------------------------------------------- queries and answers


@dataclasses.dataclass(frozen=True, kw_only=True)
class Query:
    """Pins to answer for: a plugin family and a value (or None: any) on each axis."""

    family: str
    values: Mapping[str, str | None]

    @classmethod
    def of(cls, pins: Mapping[str, str], python: str | None = None) -> Query:
        """A query from exact pins of distributions (``{"pytest": "8.4.2", ...}``); a
        distribution not named is ``none`` for pytest-cov and the plugins, else any."""
        family, values = axis_values(pins, None, python)
        if not python:
            values["python"] = None
        for axis in ("pytest", "pytest-asyncio", "playwright"):
            if axis not in pins:
                values[axis] = None
        return cls(family=family, values=values)

    def with_value(self, axis: str, value: str | None, family: str | None = None) -> Query:
        return Query(family=family or self.family, values={**self.values, axis: value})

    def describe(self) -> str:
        return describe(self.family, self.values)

    def pins(self) -> dict[str, str]:
        """The query as distribution pins (what a user writes), in the order of the
        distributions."""
        found = {
            axis: self.values.get(axis)
            for axis in ("pytest", "pytest-asyncio", "playwright", "pytest-cov")
        }
        if self.family in (SYNC_PLUGIN, ASYNC_PLUGIN):
            found[self.family] = self.values.get("plugin")
        return {d: found[d] for d in DISTRIBUTIONS if found.get(d) not in (None, ABSENT)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reason:
    """Why one pin that differs from the evidence is not expected to change the verdict."""

    axis: str
    yours: str | None
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fix:
    """The fewest changes to the pins under which the engine answers ``pass``."""

    changes: tuple[tuple[str, str | None, str | None], ...]  # (axis, yours, to)
    query: Query
    answer: Answer | None  # None only while a search ranks its candidates

    @property
    def code_change(self) -> str | None:
        """What the suite's code must change with the plugin, in words (None: nothing)."""
        switch = next((c for c in self.changes if c[0] == "family"), None)
        if switch is None:
            return None
        if self.query.family == ASYNC_PLUGIN:
            return (
                "the browser tests then take the async plugin's fixtures: async def "
                "tests that await the page (a code change)"
            )
        return (
            "the suite then starts Playwright's async API in fixtures of its own, and its "
            "browser tests await the page (a code change)"
        )

    def text(self) -> str:
        """The changes in words, in the order of the distributions."""
        parts = []
        for axis, yours, to in sorted(self.changes, key=_change_rank):
            if axis == "family":
                parts.append(f"{yours} -> {to}")
            else:
                parts.append(f"{axis} {yours or '(any)'} -> {to}")
        return ", ".join(parts)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Answer:
    """The engine's answer for one query."""

    kind: str  # measured, inferred, unknown, unresolvable
    verdict: str  # pass, bug, fail, ... or unknown / unresolvable
    query: Query
    evidence: tuple[CellResult, ...] = ()
    reasons: tuple[Reason, ...] = ()
    expected_signature: str | None = None
    why: str = ""  # an unknown's or unresolvable's reason in one sentence
    between: tuple[CellResult, CellResult, str] | None = None  # (a, b, axis)
    fix: Fix | None = None

    def workarounds(self) -> list[tuple[str, int, int]]:
        """The workaround scenarios measured on the evidence cells of the query's plugin:
        ``(scenario, cells where it and the control pass, cells that ran it)``, for a bad
        answer only (a workaround runs the same pins another way)."""
        if self.verdict == "pass" or self.kind not in ("measured", "inferred"):
            return []
        mine = [c for c in self.evidence if c.family == self.query.family]
        out = []
        for name in WORKAROUNDS:
            ran = [c for c in mine if name in c.scenarios]
            if ran:
                out.append((name, sum(c.passes_when(name) for c in ran), len(ran)))
        return out

    @property
    def exit_code(self) -> int:
        """0 good, 1 bad (measured or inferred), 8 nothing can be said."""
        if self.kind in ("measured", "inferred"):
            return GOOD if self.verdict == "pass" else BAD if self.verdict in DECIDED else UNKNOWN
        return BAD if self.kind == "unresolvable" else UNKNOWN

    @property
    def label(self) -> str:
        """``bug (inferred)``, ``pass (measured)``, ``unknown``, ``unresolvable``."""
        return (
            f"{self.verdict} ({self.kind})" if self.kind in ("measured", "inferred") else self.kind
        )

    def lines(self) -> list[str]:
        """The answer in words: verdict, evidence, reasons, and the fix."""
        out = [f"verdict: {self.label}" + (f": {self.why}" if self.why else "")]
        if self.expected_signature:
            out.append(
                f"  expected signature: {self.expected_signature} (the nearest measured "
                "pytest-asyncio release's; signatures are not inferred)"
            )
        if self.evidence:
            out.append("  evidence (measured cells):")
            out += [f"    {c.verdict:5} {c.cell_id}" for c in self.evidence[:SHOWN]]
            if len(self.evidence) > SHOWN:
                out.append(f"    ... and {len(self.evidence) - SHOWN} more")
        out += [f"  {r.axis} {_shown(r.yours)}: {r.text}" for r in self.reasons]
        if self.between:
            a, b, axis = self.between
            out.append(f"  settle it: {bisect_command(self.query, axis, a, b)}")
        return out

    def to_json(self) -> dict[str, Any]:
        """The answer for machines."""
        return {
            "kind": self.kind,
            "verdict": self.verdict,
            "label": self.label,
            "exit_code": self.exit_code,
            "why": self.why,
            "pins": self.query.pins(),
            "python": self.query.values.get("python"),
            "family": self.query.family,
            "expected_signature": self.expected_signature,
            "evidence": [{"cell_id": c.cell_id, "verdict": c.verdict} for c in self.evidence],
            "reasons": [dataclasses.asdict(r) for r in self.reasons],
            "between": (
                {
                    "axis": self.between[2],
                    "a": self.between[0].cell_id,
                    "a_verdict": self.between[0].verdict,
                    "b": self.between[1].cell_id,
                    "b_verdict": self.between[1].verdict,
                    "bisect": bisect_command(self.query, self.between[2], *self.between[:2]),
                }
                if self.between
                else None
            ),
            "fix": (
                {
                    "changes": [list(c) for c in self.fix.changes],
                    "text": self.fix.text(),
                    "pins": self.fix.query.pins(),
                    "support": self.fix.answer.kind,
                    "evidence": [c.cell_id for c in self.fix.answer.evidence[:SHOWN]],
                }
                if self.fix
                else None
            ),
        }


SHOWN = 3  # evidence cells listed


def _shown(value: str | None) -> str:
    return "(not installed)" if value == ABSENT else value or "(any)"


def _change_rank(change: tuple[str, str | None, str | None]) -> int:
    axis = SYNC_PLUGIN if change[0] in ("family", "plugin") else change[0]
    order = list(DISTRIBUTIONS)
    return order.index(axis) if axis in order else len(order)


def bisect_command(query: Query, axis: str, a: CellResult, b: CellResult) -> str:
    """The ``bisect`` command that measures the releases between ``a`` and ``b`` along
    ``axis``, with the other pins as the query has them (``a``'s where it names none)."""
    pins = query.pins() or {d: v for d, v in a.requested.items() if d != "python"}
    python = query.values.get("python") or a.values.get("python")
    dist = a.family if axis == "plugin" else axis
    pins.pop(dist, None)
    given = " ".join(
        [f"python={python}"] * (axis != "python") + [f"{d}={v}" for d, v in sorted(pins.items())]
    )
    return f"loop-compat bisect {given} --axis {dist} --from {a.values[axis]} --to {b.values[axis]}"


def value_of(cell_or_query: CellResult | Query, axis: str) -> str | None:
    """A cell's or a query's value on ``axis`` (``family``: its plugin)."""
    if axis == "family":
        return cell_or_query.family
    return cell_or_query.values.get(axis)
