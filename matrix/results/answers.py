"""The answer engine: the one set of rules that turns records into answers.

Every command that answers from records reads them here (``status``, the answer cards,
``check``, ``whence``, remedies, regressions, the page's data and the pytest plugin):

* one **version order** (:func:`version_key`: valid versions by PEP 440, anything else
  first, by its text);
* one **cell result** (:class:`CellResult`): the scenario verdicts of
  :mod:`matrix.results.model` (a retried pass after a failure in one run is ``flaky``),
  the worst of them, and what the cell pins on each axis;
* one **passes** (:meth:`CellResult.passes`), one **newest** (:func:`newest`), one
  **suite key** (:func:`suite_of`) and the workaround scenarios from the scenario
  catalogue (:data:`WORKAROUNDS`, a flag on ``Scenario``);
* the **verdict for pins** (:class:`Engine`): ``measured`` when a cell has exactly these
  pins, ``inferred`` when measured cells around them agree and every pin that differs is
  shown not to matter, ``unknown`` otherwise (``between`` when measured releases on the
  two sides of a pin disagree), and ``unresolvable`` from declared metadata before any
  record is read.

Inference, in one paragraph: the *axes that matter* are the fewest axes (besides the
plugin, which is never inferred across) on which every pair of measured cells that agree
has the same verdict, found greedily. An axis that matters is bridged only between two
measured releases with the same verdict on the same line (the other axes that matter
held equal), never past the newest or oldest measured one; an axis that does not matter
may differ freely, and the answer says across how many measured pairs it never changed
a verdict. The signature is not inferred: the one of the nearest measured pytest-asyncio
release is named as *expected*.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

from matrix.define import scenarios as scenario_catalogue
from matrix.define.cell import ASYNC_PLUGIN, BASELINE, NATIVE, NONE, SYNC_PLUGIN, plugin_of
from matrix.results import model
from matrix.results.model import SEVERITY, ScenarioVerdict

#: The axes a cell pins, in the order "newest" compares them (most significant first)
#: and answers list them. ``plugin`` is the version of the cell's Playwright plugin.
AXES = ("plugin", "pytest-asyncio", "pytest", "playwright", "python", "pytest-cov")
#: The order in which axes are tried when looking for the ones that matter: the loop
#: implementation first (pytest-asyncio), then what sits beside it.
SEARCH_ORDER = ("pytest-asyncio", "pytest", "python", "plugin", "playwright", "pytest-cov")
#: Verdicts that say something about the versions (the others are about the harness).
DECIDED = frozenset({"pass", "bug", "fail", "hollow", "timeout", "flaky"})
#: Scenarios that run the same suite another way (order, process): a workaround, not a fix.
WORKAROUNDS = tuple(s.name for s in scenario_catalogue.ALL if s.workaround)
ABSENT = "none"  # an axis the cell does not install (no pytest-cov, no plugin)
#: Exit codes of an answer used as a gate: good, bad, and nothing can be said.
GOOD, BAD, UNKNOWN = 0, 1, 8
FAMILIES = (SYNC_PLUGIN, ASYNC_PLUGIN, NATIVE, NONE)


def version_key(text: Any) -> tuple:
    """The one version order: PEP 440 versions in order, anything else first (by text)."""
    try:
        return (1, Version(str(text)))
    except InvalidVersion:
        return (0, str(text or ""))


def family_name(family: str) -> str:
    """A plugin family in words."""
    return {NATIVE: "no plugin (Playwright's async API)", NONE: "no Playwright"}.get(family, family)


# --------------------------------------------------------------------------- cell results


@dataclasses.dataclass(frozen=True, kw_only=True)
class CellResult:
    """One measured cell: its scenario verdicts, the worst of them, and its pins by axis."""

    cell_id: str
    family: str  # which Playwright plugin (define.cell.plugin_of)
    values: Mapping[str, str]  # axis -> version (``none`` when not installed)
    scenarios: Mapping[str, ScenarioVerdict]
    variant: str = BASELINE
    suite: str | None = None

    @property
    def verdict(self) -> str:
        """The worst scenario verdict (see :mod:`matrix.results.model`)."""
        return model.cell_outcome(self.scenarios.values())

    @property
    def passes(self) -> bool:
        """Whether every scenario's verdict is ``pass`` (a flaky one does not)."""
        return self.verdict == "pass"

    @property
    def decided(self) -> bool:
        return self.verdict in DECIDED

    @property
    def signature(self) -> str | None:
        """The signature of the worst scenario verdict."""
        return model.worst(self.scenarios.values()).signature if self.scenarios else None

    @property
    def record(self) -> Any:
        """The latest record of the cell's first scenario (its pins, repro, provenance)."""
        return next(iter(self.scenarios.values())).latest

    @property
    def requested(self) -> dict[str, str]:
        return dict(self.record.requested)

    def passes_when(self, scenario: str) -> bool:
        """Whether the control and ``scenario`` pass (a workaround that holds here)."""
        wanted = [self.scenarios.get("control"), self.scenarios.get(scenario)]
        return all(v is not None and v.outcome == "pass" for v in wanted)

    def describe(self) -> str:
        """``Python 3.13, pytest 8.4.2, pytest-asyncio 1.3.0, pytest-playwright 0.7.1, ...``."""
        return describe(self.family, self.values)


def describe(family: str, values: Mapping[str, str | None]) -> str:
    """Pins in words, in the order people write them."""
    parts = [f"Python {values['python']}"] if values.get("python") else []
    for axis in ("pytest", "pytest-asyncio", "plugin", "playwright", "pytest-cov"):
        value = values.get(axis)
        if axis == "plugin":
            if family in (SYNC_PLUGIN, ASYNC_PLUGIN):
                parts.append(f"{family} {value or '(any version)'}")
        elif value and value != ABSENT:
            parts.append(f"{axis} {value}")
    return ", ".join(parts)


def axis_values(requested: Mapping[str, str], resolved: Mapping[str, str] | None = None,
                python: str | None = None) -> tuple[str, dict[str, str]]:
    """A cell's plugin family and its value on every axis (installed versions first)."""
    resolved = resolved or {}
    family, _ = plugin_of(requested)
    full = python or requested.get("python") or ""
    values = {"python": ".".join(full.split(".")[:2]) or ABSENT}
    for axis, dist in (("pytest", "pytest"), ("pytest-asyncio", "pytest-asyncio"),
                       ("playwright", "playwright"), ("pytest-cov", "pytest-cov")):
        values[axis] = (resolved.get(dist) or requested.get(dist) or ABSENT) \
            if dist in requested or axis != "pytest-cov" else ABSENT
    values["plugin"] = (resolved.get(family) or requested.get(family)) \
        if family in (SYNC_PLUGIN, ASYNC_PLUGIN) else ABSENT
    return family, values


def suite_of(record: Any) -> str | None:
    """Which user's suite a record ran (its key), or None for the probes; records made
    before suites had keys name it in ``probe`` (``suite:<key>``)."""
    if getattr(record, "suite", None):
        return record.suite
    probe = getattr(record, "probe", "") or ""
    return probe.removeprefix("suite:") if probe.startswith("suite:") else None


def cells(records: Iterable[Any], *, variant: str | None = BASELINE,
          suite: str | None = None) -> list[CellResult]:
    """The cell results of the records of one variant (None: every variant) and one
    suite (None: the probes), from the results model's scenario verdicts."""
    chosen = [r for r in records if (variant is None or r.variant == variant)
              and suite_of(r) == suite]
    out = []
    for cell_id, found in model.by_cell(model.verdicts(chosen)).items():
        latest = next(iter(found.values())).latest
        family, values = axis_values(latest.requested, latest.resolved, latest.python)
        out.append(CellResult(cell_id=cell_id, family=family, values=values, scenarios=found,
                              variant=latest.variant, suite=suite_of(latest)))
    return out


def newest(candidates: Iterable[CellResult]) -> CellResult | None:
    """The candidate with the newest releases (see :data:`AXES`), then by cell id."""
    return max(candidates, key=lambda c: (tuple(version_key(c.values.get(a)) for a in AXES),
                                          c.cell_id), default=None)


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
        """The query as distribution pins (what a user writes)."""
        out = {}
        if self.family in (SYNC_PLUGIN, ASYNC_PLUGIN) and self.values.get("plugin"):
            out[self.family] = self.values["plugin"]
        for axis in ("pytest", "pytest-asyncio", "playwright", "pytest-cov"):
            value = self.values.get(axis)
            if value and value != ABSENT:
                out[axis] = value
        return out


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
    answer: Answer

    def text(self) -> str:
        parts = []
        for axis, yours, to in self.changes:
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

    @property
    def exit_code(self) -> int:
        """0 good, 1 bad (measured or inferred), 8 nothing can be said."""
        if self.kind in ("measured", "inferred"):
            return GOOD if self.verdict == "pass" else BAD if self.verdict in DECIDED else UNKNOWN
        return BAD if self.kind == "unresolvable" else UNKNOWN

    @property
    def label(self) -> str:
        """``bug (inferred)``, ``pass (measured)``, ``unknown``, ``unresolvable``."""
        return f"{self.verdict} ({self.kind})" if self.kind in ("measured", "inferred") \
            else self.kind

    def lines(self) -> list[str]:
        """The answer in words: verdict, evidence, reasons, and the fix."""
        out = [f"verdict: {self.label}" + (f": {self.why}" if self.why else "")]
        if self.expected_signature:
            out.append(f"  expected signature: {self.expected_signature} (the nearest measured "
                       "pytest-asyncio release's; signatures are not inferred)")
        if self.evidence:
            out.append("  evidence (measured cells):")
            out += [f"    {c.verdict:5} {c.cell_id}" for c in self.evidence[:SHOWN]]
            if len(self.evidence) > SHOWN:
                out.append(f"    ... and {len(self.evidence) - SHOWN} more")
        out += [f"  {r.axis} {r.yours}: {r.text}" for r in self.reasons]
        if self.between:
            a, b, axis = self.between
            out.append(f"  settle it: {bisect_command(self.query, axis, a, b)}")
        return out

    def to_json(self) -> dict[str, Any]:
        """The answer for machines."""
        return {
            "kind": self.kind, "verdict": self.verdict, "label": self.label,
            "exit_code": self.exit_code, "why": self.why,
            "pins": self.query.pins(), "python": self.query.values.get("python"),
            "family": self.query.family,
            "expected_signature": self.expected_signature,
            "evidence": [{"cell_id": c.cell_id, "verdict": c.verdict} for c in self.evidence],
            "reasons": [dataclasses.asdict(r) for r in self.reasons],
            "between": ({"axis": self.between[2], "a": self.between[0].cell_id,
                         "a_verdict": self.between[0].verdict, "b": self.between[1].cell_id,
                         "b_verdict": self.between[1].verdict,
                         "bisect": bisect_command(self.query, self.between[2], *self.between[:2])}
                        if self.between else None),
            "fix": ({"changes": [list(c) for c in self.fix.changes], "text": self.fix.text(),
                     "pins": self.fix.query.pins(), "support": self.fix.answer.kind,
                     "evidence": [c.cell_id for c in self.fix.answer.evidence[:SHOWN]]}
                    if self.fix else None),
        }


SHOWN = 3  # evidence cells listed


def bisect_command(query: Query, axis: str, a: CellResult, b: CellResult) -> str:
    """The ``bisect`` command that measures the releases between ``a`` and ``b``."""
    pins = dict(a.requested)
    pins.pop("python", None)
    dist = a.family if axis == "plugin" else axis
    pins.pop(dist, None)
    given = " ".join(f"{d}=={v}" for d, v in sorted(pins.items()))
    python = a.values.get("python")
    return (f"loop-compat bisect {given} --python {python} --axis {dist} "
            f"--from {a.values[axis]} --to {b.values[axis]}")


# --------------------------------------------------------------------------- the engine


class Engine:
    """Answers for pins from a set of measured cells (the probes' baseline cells)."""

    def __init__(self, found: Iterable[CellResult], snapshot: Any = None) -> None:
        self.cells = [c for c in found if c.decided]
        self.snapshot = snapshot
        self.matter, self.pairs = mattering(self.cells)
        self._by_family: dict[str, list[CellResult]] = {}
        for cell in self.cells:
            self._by_family.setdefault(cell.family, []).append(cell)
        self._table = {self._key(c.family, c.values): c.verdict for c in self.cells}

    @classmethod
    def of(cls, records: Iterable[Any], snapshot: Any = None) -> Engine:
        """The engine over the probes' baseline cells of ``records``."""
        return cls(cells(records), snapshot)

    def _key(self, family: str, values: Mapping[str, str | None]) -> tuple:
        return (family, *(values.get(a) for a in self.matter))

    # ------------------------------------------------------------------ the answer

    def answer(self, query: Query, *, fix: bool = True, measured_only: bool = False) -> Answer:
        """Unresolvable, measured, inferred or unknown, in that order (see module doc)."""
        refused = self.unresolvable(query)
        if refused:
            return Answer(kind="unresolvable", verdict="unresolvable", query=query, why=refused)
        found = self.measured(query)
        if not found and measured_only:
            return Answer(kind="unknown", verdict="unknown", query=query,
                          why="no measured cell has exactly these pins (--measured-only)")
        result = found or self.inferred(query)
        if fix and result.kind in ("measured", "inferred") and result.verdict != "pass":
            result = dataclasses.replace(result, fix=self.smallest_fix(query))
        elif fix and result.between is None and result.kind == "unknown":
            pass  # nothing shown broken: no fix to offer
        return result

    def unresolvable(self, query: Query) -> str | None:
        """Why declared metadata refuses the pins (None when it does not, or is unknown)."""
        if self.snapshot is None:
            return None
        from matrix.define import selection

        python = query.values.get("python") or ""
        pins = query.pins()
        try:
            return selection.declared_incompatible(python, pins, self.snapshot) if python \
                else _any_python(pins, self.snapshot)
        except (KeyError, ValueError):
            return None

    def measured(self, query: Query) -> Answer | None:
        """The cells with exactly these pins (any value where the query has none)."""
        hits = [c for c in self._by_family.get(query.family, ())
                if all(v is None or c.values.get(a) == v for a, v in query.values.items())]
        if not hits:
            return None
        worst = min(hits, key=lambda c: (_severity(c.verdict), c.cell_id))
        return Answer(kind="measured", verdict=worst.verdict, query=query,
                      evidence=tuple(sorted(hits, key=lambda c: (_severity(c.verdict), c.cell_id))),
                      expected_signature=None)

    def inferred(self, query: Query) -> Answer:
        """Bridge the pins from measured cells, or say why not (module docstring)."""
        family = self._by_family.get(query.family, [])
        if not family:
            return self._unknown(query, f"no cell with {family_name(query.family)} was measured")
        result = self._resolve(query, family, depth=len(self.matter) + 1)
        if isinstance(result, Answer):
            return result
        verdict, evidence, reasons = result
        evidence = _nearest(evidence, query)
        return Answer(kind="inferred", verdict=verdict, query=query, evidence=tuple(evidence),
                      reasons=tuple(reasons) + self._free_reasons(query, evidence),
                      expected_signature=_expected(evidence, query))

    def _resolve(self, query: Query, family: list[CellResult], depth: int):
        """(verdict, evidence cells, reasons) for the axes that matter, or an Answer."""
        wanted = {a: query.values.get(a) for a in self.matter}
        on = [c for c in family if all(v is None or c.values.get(a) == v
                                       for a, v in wanted.items())]
        if on:
            verdicts = {c.verdict for c in on}
            if len(verdicts) == 1:
                return verdicts.pop(), on, []
            return self._unknown(query, "the measured cells within these pins disagree ("
                                 + ", ".join(sorted(verdicts)) + ")")
        for axis in self.matter:
            value = wanted[axis]
            if value is None:
                continue
            line = [c for c in family if all(v is None or c.values.get(a) == v
                                             for a, v in wanted.items() if a != axis)]
            low, high = _neighbours(line, axis, value)
            if low and high:
                if low[0].verdict != high[0].verdict:
                    return self._between(query, low[0], high[0], axis)
                if {c.verdict for c in low + high} == {low[0].verdict}:
                    reason = Reason(axis=axis, yours=value, text=(
                        f"between measured {low[0].values[axis]} and {high[0].values[axis]}, "
                        f"both {low[0].verdict} with the other axes that matter equal"))
                    return low[0].verdict, low + high, [reason]
        if depth <= 0:
            return self._unknown(query, "too few measured cells around these pins")
        return self._bridge(query, family, wanted, depth)

    def _bridge(self, query: Query, family: list[CellResult], wanted: dict, depth: int):
        """Two or more unmeasured pins that matter: bridge one axis across the family's
        measured releases, answering each side in turn."""
        for axis in self.matter:
            value = wanted[axis]
            if value is None:
                continue
            measured = sorted({c.values.get(axis) for c in family}, key=version_key)
            if value in measured:
                continue
            below = [v for v in measured if version_key(v) < version_key(value)]
            above = [v for v in measured if version_key(v) > version_key(value)]
            if not below or not above:
                side = "newest" if below else "oldest"
                return self._unknown(query, f"{axis} {value} is past the {side} measured release "
                                     f"({(below or above)[-1 if below else 0]}), and {axis} "
                                     "changes verdicts here")
            sides = [self._resolve(query.with_value(axis, v), family, depth - 1)
                     for v in (below[-1], above[0])]
            if any(isinstance(s, Answer) for s in sides):
                continue
            (va, ea, ra), (vb, eb, rb) = sides
            if va != vb:
                return self._between(query, ea[0], eb[0], axis)
            reason = Reason(axis=axis, yours=value, text=(
                f"between measured {below[-1]} and {above[0]}, both {va}"))
            return va, ea + eb, [reason] + ra + rb
        return self._unknown(query, "no measured cells bracket these pins on the axes that "
                             f"matter ({', '.join(self.matter)})")

    def _free_reasons(self, query: Query, evidence: Sequence[CellResult]) -> tuple[Reason, ...]:
        """Why the axes that do not matter may differ from the evidence."""
        out = []
        for axis in AXES:
            if axis in self.matter:
                continue
            mine = query.values.get(axis)
            if mine is None or all(c.values.get(axis) == mine for c in evidence):
                continue
            measured = sorted({c.values.get(axis) for c in self.cells if c.values.get(axis)
                               and c.values.get(axis) != ABSENT}, key=version_key)
            past = ""
            if mine != ABSENT and measured and version_key(mine) > version_key(measured[-1]):
                past = f"past the newest measured {measured[-1]}; "
            out.append(Reason(axis=axis, yours=mine, text=(
                f"{past}{axis} never changed a verdict across the {self.pairs[axis]:,} measured "
                f"pairs that differ in it ({self._held()} held equal)")))
        return tuple(out)

    def _held(self) -> str:
        return ", ".join(("the plugin", *self.matter))

    def _between(self, query: Query, a: CellResult, b: CellResult, axis: str) -> Answer:
        a, b = sorted((a, b), key=lambda c: version_key(c.values.get(axis)))
        why = (f"between {axis} {a.values[axis]} ({a.verdict}) and {b.values[axis]} "
               f"({b.verdict}), measured with the other axes that matter equal")
        return Answer(kind="unknown", verdict="unknown", query=query, evidence=(a, b), why=why,
                      between=(a, b, axis))

    def _unknown(self, query: Query, why: str) -> Answer:
        return Answer(kind="unknown", verdict="unknown", query=query, why=why)

    # ------------------------------------------------------------------ fixes

    def smallest_fix(self, query: Query, most: int = 2) -> Fix | None:
        """The fewest changes, on the axes that matter and the plugin, under which the
        answer is ``pass``; the pins the evidence shows irrelevant stay as they are. Among
        equals: the smallest version moves, then the newest."""
        options = self._options(query)
        for size in range(1, most + 1):
            found = []
            for combo in itertools.combinations(options, size):
                if len({axis for axis, *_ in combo}) < size:
                    continue
                changed, changes = query, []
                for axis, value, family in combo:
                    changes.append(_change(query, axis, value, family))
                    changed = changed.with_value(axis, value, family)
                answer = self.answer(changed, fix=False)
                if answer.kind in ("measured", "inferred") and answer.verdict == "pass":
                    found.append(Fix(changes=tuple(changes), query=changed, answer=answer))
            if found:
                return min(found, key=lambda f: (_own_fixtures(f), _move(f, query),
                                                 _newness_rank(f)))
        return None

    def _options(self, query: Query) -> list[tuple[str, str, str | None]]:
        """Single-axis changes worth trying: another plugin (family and version), and every
        measured value of each axis that matters."""
        options: list[tuple[str, str, str | None]] = []
        for family, found in self._by_family.items():
            for version in sorted({c.values.get("plugin") for c in found}, key=version_key):
                if (family, version) != (query.family, query.values.get("plugin")):
                    options.append(("plugin", version, family))
        for axis in self.matter:
            if axis == "plugin":
                continue
            for value in sorted({c.values.get(axis) for c in self.cells}, key=version_key):
                if value != query.values.get(axis):
                    options.append((axis, value, None))
        return options


def _change(query: Query, axis: str, value: str | None, family: str | None):
    if axis == "plugin" and family != query.family:
        mine = f"{family_name(query.family)}" + (f" {query.values.get('plugin')}"
                                                  if query.values.get("plugin") not in (None, ABSENT) else "")
        to = family_name(family or "") + (f" {value}" if value not in (None, ABSENT) else "")
        return ("family", mine, to)
    return (axis, query.values.get(axis), value)


def _move(fix: Fix, query: Query) -> int:
    """How far a fix moves the versions (a major 1000, a minor 10, a patch 1)."""
    total = 0
    for axis, _, to in fix.changes:
        if axis == "family":  # the plugin's release: nearest the one the user has
            total += distance(query.values.get("plugin"), fix.query.values.get("plugin"))
        else:
            total += distance(query.values.get(axis), to)
    return total


def _own_fixtures(fix: Fix) -> int:
    """Leaving every plugin means writing the suite's own browser fixtures: a larger change
    than switching plugins."""
    return int(fix.query.family in (NATIVE, NONE) and any(a == "family" for a, *_ in fix.changes))


def _newness_rank(fix: Fix) -> tuple:
    """Newest first, as a key for ``min``."""
    return tuple(_Reverse(version_key(v)) for v in (fix.query.values.get(a) for a in AXES))


@dataclasses.dataclass(frozen=True)
class _Reverse:
    """Reverses the order of a key (newest sorts first under ``min``)."""

    key: tuple

    def __lt__(self, other: _Reverse) -> bool:
        return other.key < self.key


def distance(a: str | None, b: str | None) -> int:
    """Version distance: a major counts 1000, a minor 10, a patch 1."""
    try:
        x, y = Version(a or ""), Version(b or "")
    except InvalidVersion:
        return 0 if a == b else 1
    p, q = (x.release + (0, 0, 0))[:3], (y.release + (0, 0, 0))[:3]
    return 1000 * abs(p[0] - q[0]) + 10 * abs(p[1] - q[1]) + (p[2] != q[2])


def _neighbours(line: list[CellResult], axis: str, value: str
                ) -> tuple[list[CellResult], list[CellResult]]:
    """The cells of ``line`` at the nearest measured release below and above ``value``."""
    below = [c for c in line if version_key(c.values.get(axis)) < version_key(value)]
    above = [c for c in line if version_key(c.values.get(axis)) > version_key(value)]
    if not below or not above:
        return [], []
    low = max(version_key(c.values.get(axis)) for c in below)
    high = min(version_key(c.values.get(axis)) for c in above)
    return ([c for c in below if version_key(c.values.get(axis)) == low],
            [c for c in above if version_key(c.values.get(axis)) == high])


def _nearest(evidence: Sequence[CellResult], query: Query) -> list[CellResult]:
    """The evidence, nearest to the query first (by version distance over every axis)."""
    def far(c: CellResult) -> tuple:
        return (sum(distance(query.values.get(a), c.values.get(a)) for a in AXES
                    if query.values.get(a) is not None), c.cell_id)
    unique = {c.cell_id: c for c in evidence}
    return sorted(unique.values(), key=far)


def _expected(evidence: Sequence[CellResult], query: Query) -> str | None:
    """The signature of the evidence cell nearest in pytest-asyncio (not inferred)."""
    mine = query.values.get("pytest-asyncio")
    failing = [c for c in evidence if c.signature and not c.passes]
    if not failing:
        return None
    return min(failing, key=lambda c: (distance(mine, c.values.get("pytest-asyncio")),
                                       c.cell_id)).signature


def _severity(verdict: str) -> int:
    return SEVERITY.index(verdict) if verdict in SEVERITY else len(SEVERITY)


def _any_python(pins: Mapping[str, str], snapshot: Any) -> str | None:
    """Declared metadata refuses the pins on every Python the matrix considers."""
    from matrix.define import releases, selection

    reasons = [selection.declared_incompatible(py, pins, snapshot)
               for py in releases.python_versions()]
    return reasons[-1] if reasons and all(reasons) else None


def mattering(found: Sequence[CellResult]) -> tuple[tuple[str, ...], dict[str, int]]:
    """The axes that matter (fewest, greedy, see module docstring), and for every other
    axis the number of measured pairs that differ in it and agree on those."""
    matter: list[str] = []
    while True:
        clashes = _clashes(found, matter)
        if not clashes:
            break
        left = [a for a in SEARCH_ORDER if a not in matter]
        if not left:
            break
        best = min(left, key=lambda a: (_clashes(found, matter + [a]), SEARCH_ORDER.index(a)))
        matter.append(best)
    # an axis no pair ever varied is not known to be irrelevant: it counts as mattering
    pairs = {a: _pairs_differing(found, matter, a) for a in AXES if a not in matter}
    for axis, count in list(pairs.items()):
        if count == 0 and len({c.values.get(axis) for c in found}) > 1:
            matter.append(axis)
            del pairs[axis]
    return tuple(a for a in SEARCH_ORDER if a in matter), pairs


def _groups(found: Sequence[CellResult], axes: Sequence[str]) -> dict[tuple, list[CellResult]]:
    groups: dict[tuple, list[CellResult]] = {}
    for cell in found:
        groups.setdefault((cell.family, *(cell.values.get(a) for a in axes)), []).append(cell)
    return groups


def _clashes(found: Sequence[CellResult], axes: Sequence[str]) -> int:
    """Pairs of cells equal on ``axes`` (and the plugin family) with different verdicts."""
    total = 0
    for group in _groups(found, axes).values():
        counts: dict[str, int] = {}
        for cell in group:
            counts[cell.verdict] = counts.get(cell.verdict, 0) + 1
        n = len(group)
        total += (n * n - sum(k * k for k in counts.values())) // 2
    return total


def _pairs_differing(found: Sequence[CellResult], axes: Sequence[str], axis: str) -> int:
    """Pairs of cells equal on ``axes`` (and the family) that differ in ``axis``."""
    total = 0
    for group in _groups(found, axes).values():
        counts: dict[str | None, int] = {}
        for cell in group:
            counts[cell.values.get(axis)] = counts.get(cell.values.get(axis), 0) + 1
        n = len(group)
        total += (n * n - sum(k * k for k in counts.values())) // 2
    return total


# --------------------------------------------------------------------------- self-validation


@dataclasses.dataclass(frozen=True, kw_only=True)
class Validation:
    """Each measured cell hidden in turn and answered from the rest."""

    right: int
    wrong: tuple[tuple[CellResult, Answer], ...]
    abstained: int

    @property
    def total(self) -> int:
        return self.right + len(self.wrong) + self.abstained

    @property
    def answered(self) -> float:
        return (self.right + len(self.wrong)) / self.total if self.total else 0.0

    @property
    def accuracy(self) -> float:
        answered = self.right + len(self.wrong)
        return self.right / answered if answered else 0.0

    def lines(self) -> list[str]:
        out = [f"{self.total} measured cells, each hidden in turn and inferred from the rest:",
               f"  answered {self.right + len(self.wrong)} of {self.total} "
               f"({self.answered:.0%}); right {self.right} of those ({self.accuracy:.0%}); "
               f"wrong {len(self.wrong)}; unknown {self.abstained}"]
        for cell, answer in self.wrong:
            out.append(f"  wrong: {cell.cell_id} measured {cell.verdict}, inferred "
                       f"{answer.verdict} from {', '.join(c.cell_id for c in answer.evidence[:2])}")
        return out


def validate(found: Sequence[CellResult]) -> Validation:
    """Hide each decided cell, infer it from the others (the axes that matter found anew
    without it), and count right, wrong and unknown."""
    decided = [c for c in found if c.decided]
    right, wrong, abstained = 0, [], 0
    for hidden in decided:
        engine = Engine([c for c in decided if c.cell_id != hidden.cell_id])
        query = Query(family=hidden.family, values=dict(hidden.values))
        answer = engine.inferred(query)
        if answer.kind != "inferred":
            abstained += 1
        elif answer.verdict == hidden.verdict:
            right += 1
        else:
            wrong.append((hidden, answer))
    return Validation(right=right, wrong=tuple(wrong), abstained=abstained)
