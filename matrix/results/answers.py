"""The answer engine: the one set of rules that turns records into answers.

Every command that answers from records reads them here (``status``, the answer cards,
``check``, ``whence``, remedies, regressions, the page's data and the pytest plugin):

* one **version order** (:func:`matrix.define.versions.version_key`);
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

Queries and answers are the engine's vocabulary (:mod:`matrix.results.answer_model`).
Inference, in one paragraph: the *axes that matter* are the fewest axes (besides the
plugin, which is never inferred across) on which every pair of measured cells that agree
has the same verdict, found greedily (:mod:`matrix.results.mattering`). An axis that
matters is bridged only between two measured releases with the same verdict on the same
line (the other axes that matter held equal), never past the newest or oldest measured
one; an axis that does not matter may differ freely, and the answer says across how many
measured pairs it never changed a verdict. The signature is not inferred: the one of the
nearest measured pytest-asyncio release is named as *expected*.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from matrix.define.cell import NATIVE, NONE
from matrix.define.versions import version_key
from matrix.results.answer_model import (  # noqa: F401 (the engine's vocabulary)
    BAD,
    GOOD,
    SHOWN,
    UNKNOWN,
    Answer,
    Fix,
    Query,
    Reason,
    bisect_command,
    value_of,
)
from matrix.results.cells import (  # noqa: F401 (the engine's vocabulary, read from here too)
    ABSENT,
    AXES,
    CONTROL,
    DECIDED,
    FAMILIES,
    WORKAROUNDS,
    CellResult,
    _severity,
    axis_values,
    cells,
    describe,
    distance,
    family_name,
    newest,
    newest_key,
    suite_of,
)
from matrix.results.mattering import SEARCH_ORDER, mattering

# --------------------------------------------------------------------------- the engine


class Part:
    """The rules of one part of a cell's verdict, learnt from the measured cells.

    ``control`` (the async tests alone) is answered across plugins unless the plugin is
    seen to matter to it; ``browser`` (every other scenario) only within the query's plugin.
    """

    def __init__(self, name: str, found: Sequence[CellResult]) -> None:
        self.name = name
        self.by_plugin = name != CONTROL  # the browser part never crosses plugins
        self.cells = [c for c in found if c.part(name) in DECIDED]
        order = SEARCH_ORDER if self.by_plugin else (*SEARCH_ORDER[:3], "family", *SEARCH_ORDER[3:])
        self.matter, self.pairs = mattering(self.cells, name, order, self.by_plugin)
        self._pools: dict[str, list[CellResult]] = {}
        self._changes: dict[tuple, bool] = {}
        self._indexes: dict[tuple, dict[tuple, list[CellResult]]] = {}
        self._measured: dict[tuple, list[tuple[tuple, str]]] = {}  # releases of an axis

    def pool(self, query: Query) -> list[CellResult]:
        """The cells that answer for ``query``: its plugin's, or all of them (control)."""
        family = query.family if self.by_plugin else ""
        if family not in self._pools:
            self._pools[family] = [
                c for c in self.cells if not self.by_plugin or c.family == query.family
            ]
        return self._pools[family]

    def verdict(self, cell: CellResult) -> str:
        return cell.part(self.name) or "unknown"

    def held(self) -> str:
        return ", ".join((("the plugin",) if self.by_plugin else ()) + self.matter) or "nothing"

    def resolve(self, query: Query, pool: list[CellResult], depth: int):
        """(verdict, evidence, reasons) on the axes that matter, or an unknown Answer."""
        wanted = {a: value_of(query, a) for a in self.matter}
        on = self._matching(pool, wanted, self.matter)
        if on:
            verdicts = {self.verdict(c) for c in on}
            if len(verdicts) == 1:
                return verdicts.pop(), on, []
            return _unknown(
                query,
                "the measured cells within these pins disagree ("
                + ", ".join(sorted(verdicts))
                + ")",
            )
        for axis in self.matter:
            value = wanted[axis]
            if value is None or axis == "family":
                continue
            line = self._matching(pool, wanted, [a for a in self.matter if a != axis])
            low, high = _neighbours(line, axis, value)
            if low and high:
                sides = {self.verdict(c) for c in low + high}
                if len(sides) == 1 and not self._bridgeable(pool, axis, value, low, high):
                    continue
                if len(sides) > 1:
                    a = low[0]
                    b = (
                        next(c for c in high if self.verdict(c) != self.verdict(a))
                        if any(self.verdict(c) != self.verdict(a) for c in high)
                        else high[0]
                    )
                    return _between(query, a, b, axis, self)
                reason = Reason(
                    axis=axis,
                    yours=value,
                    text=(
                        f"between measured {low[0].values[axis]} and {high[0].values[axis]}, "
                        f"both {sides.pop()} ({self.what()}, {self.held()} held equal)"
                    ),
                )
                return self.verdict(low[0]), low + high, [reason]
        if depth <= 0:
            return _unknown(query, "too few measured cells around these pins")
        return self._bridge(query, pool, wanted, depth)

    def _bridgeable(
        self,
        pool: list[CellResult],
        axis: str,
        value: str,
        low: list[CellResult],
        high: list[CellResult],
    ) -> bool:
        """Whether agreeing neighbours may answer for ``value``: no release between them was
        measured elsewhere (it may be where this line changes, unseen), and ``value`` itself
        changes no verdict on another line."""
        lo, hi = version_key(low[0].values.get(axis)), version_key(high[0].values.get(axis))
        if any(lo < k < hi and v != value for k, v in self.releases(pool, axis)):
            return False
        return not self._changes_at(pool, axis, value)

    def releases(self, pool: list[CellResult], axis: str) -> list[tuple[tuple, str]]:
        """The values of ``axis`` measured in ``pool``, ``(version key, value)`` in version
        order, worked out once per pool."""
        key = (id(pool), axis)
        if key not in self._measured:
            found = {value_of(c, axis) for c in pool}
            self._measured[key] = sorted((version_key(v), v) for v in found)
        return self._measured[key]

    def _changes_at(self, pool: list[CellResult], axis: str, value: str) -> bool:
        """Whether ``value`` of ``axis``, measured on other lines (the other axes that
        matter held at other values), differs there from a measured neighbour release."""
        key = (id(pool), axis, value)
        if key not in self._changes:
            self._changes[key] = self._changes_on_lines(pool, axis, value)
        return self._changes[key]

    def _changes_on_lines(self, pool: list[CellResult], axis: str, value: str) -> bool:
        others = [a for a in self.matter if a != axis]
        lines: dict[tuple, list[CellResult]] = {}
        for cell in pool:
            lines.setdefault(tuple(value_of(cell, a) for a in others), []).append(cell)
        for line in lines.values():
            here = {self.verdict(c) for c in line if value_of(c, axis) == value}
            if not here:
                continue
            low, high = _neighbours(line, axis, value)
            if any(self.verdict(c) not in here or len(here) > 1 for c in low + high):
                return True
        return False

    def _matching(
        self, pool: list[CellResult], wanted: dict, axes: Sequence[str]
    ) -> list[CellResult]:
        """The cells of ``pool`` with the wanted values on ``axes`` (None: any), looked up in
        an index of the pool by the axes given a value (fix searches ask thousands)."""
        given = tuple(a for a in axes if wanted[a] is not None)
        key = (id(pool), given)
        if key not in self._indexes:
            index: dict[tuple, list[CellResult]] = {}
            for cell in pool:
                index.setdefault(tuple(value_of(cell, a) for a in given), []).append(cell)
            self._indexes[key] = index
        return self._indexes[key].get(tuple(wanted[a] for a in given), [])

    def what(self) -> str:
        return "the async tests alone" if self.name == CONTROL else "the browser scenarios"

    def _bridge(self, query: Query, pool: list[CellResult], wanted: dict, depth: int):
        """Two or more unmeasured pins that matter: bridge one axis across the measured
        releases, answering each side in turn."""
        for axis in self.matter:
            value = wanted[axis]
            if value is None or axis == "family":
                continue
            measured = self.releases(pool, axis)
            if any(v == value for _, v in measured):
                continue
            mine = version_key(value)
            below = [v for k, v in measured if k < mine]
            above = [v for k, v in measured if k > mine]
            if not below or not above:
                side = "newest" if below else "oldest"
                edge = below[-1] if below else above[0]
                return _unknown(
                    query,
                    f"{axis} {value} is past the {side} measured release "
                    f"({edge}), and {axis} changes verdicts of {self.what()}",
                )
            sides = [
                self.resolve(query.with_value(axis, v), pool, depth - 1)
                for v in (below[-1], above[0])
            ]
            if any(isinstance(s, Answer) for s in sides):
                continue
            (va, ea, ra), (vb, eb, rb) = sides
            if va != vb:
                return _between(query, ea[0], eb[0], axis, self)
            reason = Reason(
                axis=axis,
                yours=value,
                text=(f"between measured {below[-1]} and {above[0]}, both {va} ({self.what()})"),
            )
            return va, ea + eb, [reason] + ra + rb
        return _unknown(
            query,
            f"no measured cells bracket these pins on what matters to "
            f"{self.what()} ({self.held()})",
        )

    def free_reasons(self, query: Query, evidence: Sequence[CellResult]) -> list[Reason]:
        """Why the axes that do not matter may differ from the evidence."""
        out = []
        for axis in AXES:
            if axis in self.matter:
                continue
            mine = query.values.get(axis)
            if mine is None or all(c.values.get(axis) == mine for c in evidence):
                continue
            top = self._newest_release(axis)
            past = ""
            if mine != ABSENT and top and version_key(mine) > version_key(top):
                past = f"past the newest measured {top}; "
            out.append(Reason(axis=axis, yours=mine, text=past + self.free_text(axis)))
        return out

    @functools.cache  # noqa: B019 (a part lives as long as its engine)
    def _newest_release(self, axis: str) -> str | None:
        """The newest release of ``axis`` measured (None when none is)."""
        found = {c.values.get(axis) for c in self.cells} - {None, ABSENT}
        return max(found, key=version_key, default=None)

    def free_text(self, axis: str) -> str:
        """Why ``axis``, which does not matter here, may differ from the evidence."""
        return (
            f"{axis} never changed a verdict of {self.what()} across the "
            f"{self.pairs.get(axis, 0):,} measured pairs that differ in it "
            f"({self.held()} held equal)"
        )


class Engine:
    """Answers for pins from a set of measured cells (the probes' baseline cells): a
    verdict is the worse of its two parts' (:class:`Part`), each measured or inferred."""

    def __init__(self, found: Iterable[CellResult], snapshot: Any = None) -> None:
        self.found = list(found)  # every cell given, decided or not
        self.cells = [c for c in self.found if c.decided]
        self.snapshot = snapshot
        control = Part(CONTROL, self.cells)
        # The browser scenarios are learnt apart for each state of the async tests alone
        # (their verdict, and how they fail): where those fail, the browser scenarios fail
        # with them or meet the conflict, and that says nothing of the cells whose async
        # tests pass, nor of those that fail another way.
        states = {c.control_state for c in self.cells} - {None}
        self.browser = {
            state: Part("browser", [c for c in self.cells if c.control_state == state])
            for state in sorted(states, key=lambda s: (_severity(s.split(" ")[0]), s))
        }
        self.parts = (control, *self.browser.values())
        self._memo: dict[tuple, Answer] = {}
        # the cells by plugin and their values on the axes a query gives (measured())
        self._exact: dict[tuple, dict[tuple, list[CellResult]]] = {}
        self._verdicts: dict[tuple, bool] = {}

    @classmethod
    def of(cls, records: Iterable[Any], snapshot: Any = None) -> Engine:
        """The engine over the probes' baseline cells of ``records``."""
        return cls(cells(records), snapshot)

    @property
    def matter(self) -> dict[str, tuple[str, ...]]:
        """The axes that matter: to the async tests alone, and to the browser scenarios
        of the cells whose async tests pass."""
        browser = self.browser.get("pass")
        return {CONTROL: self.parts[0].matter, "browser": browser.matter if browser else ()}

    # ------------------------------------------------------------------ the answer

    def answer(self, query: Query, *, fix: bool = True, measured_only: bool = False) -> Answer:
        """Unresolvable, measured, inferred or unknown, in that order (see module doc)."""
        refused = self.unresolvable(query)
        if refused:
            return Answer(kind="unresolvable", verdict="unresolvable", query=query, why=refused)
        found = self.measured(query)
        if not found and measured_only:
            return _unknown(query, "no measured cell has exactly these pins (--measured-only)")
        result = found or self.inferred(query)
        if fix and result.kind in ("measured", "inferred") and result.verdict != "pass":
            result = dataclasses.replace(result, fix=self.smallest_fix(query))
        return result

    def unresolvable(self, query: Query) -> str | None:
        """Why declared metadata refuses the pins (None when it does not, or is unknown)."""
        if self.snapshot is None:
            return None
        from matrix.define import selection

        python = query.values.get("python") or ""
        pins = query.pins()
        try:
            return (
                selection.declared_incompatible(python, pins, self.snapshot)
                if python
                else _any_python(pins, self.snapshot)
            )
        except (KeyError, ValueError):
            return None

    def measured(self, query: Query) -> Answer | None:
        """The cells with exactly these pins (any value where the query has none)."""
        given = tuple(sorted(a for a, v in query.values.items() if v is not None))
        if given not in self._exact:
            index: dict[tuple, list[CellResult]] = {}
            for cell in self.cells:
                index.setdefault((cell.family, *(cell.values.get(a) for a in given)), []).append(
                    cell
                )
            self._exact[given] = index
        hits = list(self._exact[given].get((query.family, *(query.values[a] for a in given)), []))
        if not hits:
            return None
        hits.sort(key=lambda c: (_severity(c.verdict), c.cell_id))
        return Answer(kind="measured", verdict=hits[0].verdict, query=query, evidence=tuple(hits))

    def inferred(self, query: Query) -> Answer:
        """Each part bridged from measured cells, or the reason it cannot be (module doc)."""
        sides = self._sides(query)
        if isinstance(sides, Answer):
            return sides
        found = [resolved for side in sides for resolved in side]
        verdict = _worst(sides[0])  # every side gives the same (see _sides)
        evidence = _nearest([c for _, _, cells_, _ in found for c in cells_], query)
        reasons: dict[str, Reason] = {}
        for _, _, _, brackets in found:  # a bracket says more than "never mattered"
            for reason in brackets:
                reasons.setdefault(reason.axis, reason)
        for part, _, cells_, _ in reversed(found):  # then the browser part's free axes
            for reason in part.free_reasons(query, cells_):
                reasons.setdefault(reason.axis, reason)
        return Answer(
            kind="inferred",
            verdict=verdict,
            query=query,
            evidence=tuple(evidence),
            reasons=tuple(reasons[a] for a in AXES if a in reasons),
            expected_signature=_expected(evidence, query, verdict),
        )

    def _sides(self, query: Query) -> list[list[tuple]] | Answer:
        """The parts resolved for ``query``, ``[(part, verdict, evidence, reasons), ...]``
        for the async tests alone and then the browser scenarios, or the unknown answer.

        Where the async tests alone are unknown between two measured releases, each side's
        state is tried: when the browser scenarios are answered under both and the cell's
        verdict is the same with either, that verdict holds (one list per side)."""
        control = self.parts[0]
        pool = control.pool(query)
        if not pool:
            return _unknown(query, f"no cell with {family_name(query.family)} was measured")
        first = control.resolve(query, pool, depth=len(control.matter) + 1)
        if isinstance(first, Answer):
            return self._either_way(query, first) or first
        state = _control_state(query, *first[:2])
        if isinstance(state, Answer):
            return state
        browser = self._browser(query, state)
        if isinstance(browser, Answer):
            return browser
        return [[(control, *first), browser]]

    def _either_way(self, query: Query, unknown: Answer) -> list[list[tuple]] | None:
        """Both sides of the async tests' bracket, when the verdict is the same with either."""
        if unknown.between is None:
            return None
        low, high, axis = unknown.between
        control, sides = self.parts[0], []
        for cell in (low, high):
            browser = self._browser(query, cell.control_state)
            if isinstance(browser, Answer):
                return None
            sides.append([(control, control.verdict(cell), [cell], []), browser])
        verdicts = {_worst(side) for side in sides}
        if len(verdicts) != 1:
            return None
        reason = Reason(
            axis=axis,
            yours=query.values.get(axis),
            text=(
                f"the async tests alone are not known here, between measured "
                f"{low.values[axis]} ({control.verdict(low)}) and {high.values[axis]} "
                f"({control.verdict(high)}); the verdict is {verdicts.pop()} with either"
            ),
        )
        sides[0][0] = (control, control.verdict(low), [low], [reason])
        return sides

    def _browser(self, query: Query, state: str | None) -> tuple | Answer:
        """The browser scenarios' part resolved for ``query`` among the cells whose async
        tests alone are in ``state``, or the unknown answer."""
        part = self.browser.get(state)
        pool = part.pool(query) if part else []
        if not pool:
            return _unknown(
                query,
                f"no cell with {family_name(query.family)} was measured whose async tests "
                f"alone {state}",
            )
        result = part.resolve(query, pool, depth=len(part.matter) + 1)
        return result if isinstance(result, Answer) else (part, *result)

    # ------------------------------------------------------------------ fixes

    def smallest_fix(self, query: Query, most: int = 2) -> Fix | None:
        """The fewest changes, on the axes that matter and the plugin, under which the
        answer is ``pass``; the pins the evidence shows irrelevant stay as they are. Among
        equals: no own fixtures needed, the smallest version moves, then the newest."""
        return next(iter(self.fixes(query, most, shown=1)), None)

    def fixes(self, query: Query, most: int = 2, shown: int = 8) -> list[Fix]:
        """The ``shown`` smallest changes of at most ``most`` axes under which the answer is
        ``pass`` (leaving every plugin counts as a change more: own fixtures)."""
        found: list[Fix] = []
        options = self._options(query)
        for size in range(1, most + 1):
            # a fix of more changes costs more than ``size - 1``: once ``shown`` fixes cost
            # no more than that, none of the larger ones could be shown
            if sum(_cost(f) < size for f in found) >= shown:
                break
            for combo in itertools.combinations(options, size):
                if len({axis for axis, *_ in combo}) < size:
                    continue
                changed = _changed(query, combo)
                if self._passes(changed):
                    changes = tuple(_change(query, *option) for option in combo)
                    found.append(Fix(changes=changes, query=changed, answer=None))
        found.sort(key=lambda f: (_cost(f), _own_fixtures(f), _move(f, query), _newness_rank(f)))
        # the whole answer (its evidence, nearest first) only for the fixes shown
        return [dataclasses.replace(f, answer=self._plain(f.query)) for f in found[:shown]]

    def _passes(self, query: Query) -> bool:
        """Whether the answer for ``query`` is ``pass`` (measured or inferred) and declared
        metadata allows it: the verdict alone, remembered (a fix search asks hundreds)."""
        key = _memo_key(query)
        if key not in self._verdicts:
            # what matters decides, as for every answer the page ships: pins a fix leaves
            # open (any release) are not the worst of whatever cells were measured there
            verdict = self._inferred_verdict(query)
            self._verdicts[key] = verdict == "pass" and not self.unresolvable(query)
        return self._verdicts[key]

    def _inferred_verdict(self, query: Query) -> str:
        """:meth:`inferred`'s verdict without its evidence and reasons."""
        sides = self._sides(query)
        return "unknown" if isinstance(sides, Answer) else _worst(sides[0])

    def _plain(self, query: Query) -> Answer:
        """The answer without a fix, remembered: fix searches ask the same pins often."""
        key = _memo_key(query)
        if key not in self._memo:
            # the same order as answer(), with declared metadata asked last: it is the
            # dearest question and only a passing answer needs it
            found = self.measured(query) or self.inferred(query)
            if found.verdict == "pass" and (refused := self.unresolvable(query)):
                found = Answer(
                    kind="unresolvable", verdict="unresolvable", query=query, why=refused
                )
            self._memo[key] = found
        return self._memo[key]

    def _options(self, query: Query) -> list[tuple[str, str, str | None]]:
        """Single-axis changes worth trying: another plugin (family and version), and every
        measured value of each axis that matters to either part."""
        own = (query.family, query.values.get("plugin"))

        def other(axis: str, value: str, family: str | None) -> bool:
            return (family, value) != own if axis == "plugin" else value != query.values.get(axis)

        return [option for option in self._all_options if other(*option)]

    @functools.cached_property
    def _all_options(self) -> list[tuple[str, str, str | None]]:
        """Every single-axis change: each measured plugin release, then each measured value
        of each axis that matters (worked out once: a fix search asks for them each time)."""
        plugins = sorted(
            {(c.family, c.values.get("plugin")) for c in self.cells},
            key=lambda fv: (fv[0], version_key(fv[1])),
        )
        options: list[tuple[str, str, str | None]] = [("plugin", v, f) for f, v in plugins]
        axes = {a for p in self.parts for a in p.matter} - {"plugin", "family"}
        for axis in (a for a in AXES if a in axes):
            for value in sorted({c.values.get(axis) for c in self.cells}, key=version_key):
                options.append((axis, value, None))
        return options


def _memo_key(query: Query) -> tuple:
    """A query as a key of the engine's memos: its plugin and every axis value."""
    return (query.family, *sorted(query.values.items()))  # the axes are unique: no ties


def _changed(query: Query, combo: Sequence[tuple[str, str, str | None]]) -> Query:
    """``query`` with each ``(axis, value, family)`` of ``combo`` applied in turn (the
    same as :meth:`Query.with_value` one after the other, in one step)."""
    family = next((f for _, _, f in reversed(combo) if f), query.family)
    return Query(family=family, values={**query.values, **{a: v for a, v, _ in combo}})


def _between(query: Query, a: CellResult, b: CellResult, axis: str, part: Part) -> Answer:
    a, b = sorted((a, b), key=lambda c: version_key(c.values.get(axis)))
    why = (
        f"between {axis} {a.values[axis]} ({part.verdict(a)}) and {b.values[axis]} "
        f"({part.verdict(b)}), measured for {part.what()} with {part.held()} equal"
    )
    return Answer(
        kind="unknown",
        verdict="unknown",
        query=query,
        evidence=(a, b),
        why=why,
        between=(a, b, axis),
    )


def _worst(side: Sequence[tuple]) -> str:
    """The cell's verdict from its parts' ``(part, verdict, evidence, reasons)``."""
    return min((verdict for _, verdict, _, _ in side), key=_severity)


def _control_state(query: Query, verdict: str, evidence: Sequence[CellResult]) -> str | Answer:
    """The async tests' state the control part answers (:attr:`CellResult.control_state`):
    where they fail, the evidence must agree on how, or nothing is said of the rest."""
    if verdict == "pass":
        return verdict
    states = {c.control_state for c in evidence}
    if len(states) == 1:
        return states.pop()
    return _unknown(
        query,
        "the measured cells around these pins fail their async tests in different ways ("
        + "; ".join(sorted(s for s in states if s))
        + ")",
    )


def _unknown(query: Query, why: str) -> Answer:
    return Answer(kind="unknown", verdict="unknown", query=query, why=why)


def _change(query: Query, axis: str, value: str | None, family: str | None):
    if axis == "plugin" and family != query.family:
        mine = f"{family_name(query.family)}" + (
            f" {query.values.get('plugin')}"
            if query.values.get("plugin") not in (None, ABSENT)
            else ""
        )
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


def _cost(fix: Fix) -> int:
    """Changes a fix asks for; writing the suite's own fixtures counts as one more."""
    return len(fix.changes) + _own_fixtures(fix)


def _own_fixtures(fix: Fix) -> int:
    """Leaving every plugin means writing the suite's own browser fixtures: a larger change
    than switching plugins."""
    return int(fix.query.family in (NATIVE, NONE) and any(a == "family" for a, *_ in fix.changes))


def _newness_rank(fix: Fix) -> tuple:
    """Newest first, as a key for ``min``."""
    return tuple(_Reverse(k) for k in newest_key(fix.query.values))


@dataclasses.dataclass(frozen=True)
class _Reverse:
    """Reverses the order of a key (newest sorts first under ``min``)."""

    key: tuple

    def __lt__(self, other: _Reverse) -> bool:
        return other.key < self.key


def _neighbours(
    line: list[CellResult], axis: str, value: str
) -> tuple[list[CellResult], list[CellResult]]:
    """The cells of ``line`` at the nearest measured release below and above ``value``."""
    below = [c for c in line if version_key(c.values.get(axis)) < version_key(value)]
    above = [c for c in line if version_key(c.values.get(axis)) > version_key(value)]
    if not below or not above:
        return [], []
    low = max(version_key(c.values.get(axis)) for c in below)
    high = min(version_key(c.values.get(axis)) for c in above)
    return (
        [c for c in below if version_key(c.values.get(axis)) == low],
        [c for c in above if version_key(c.values.get(axis)) == high],
    )


def _nearest(evidence: Sequence[CellResult], query: Query) -> list[CellResult]:
    """The evidence, nearest to the query first (by version distance over every axis)."""

    def far(c: CellResult) -> tuple:
        return (
            c.family != query.family,
            sum(
                distance(query.values.get(a), c.values.get(a))
                for a in AXES
                if query.values.get(a) is not None
            ),
            c.cell_id,
        )

    unique = {c.cell_id: c for c in evidence}
    return sorted(unique.values(), key=far)


def _expected(evidence: Sequence[CellResult], query: Query, verdict: str) -> str | None:
    """The signature of the evidence cell with the answer's verdict nearest in
    pytest-asyncio, the query's plugin first (not inferred: a bug's expected signature is
    a bug's, never that of a cell whose async tests fail on their own)."""
    mine = query.values.get("pytest-asyncio")
    alike = [c for c in evidence if c.signature and c.verdict == verdict]
    if not alike:
        return None
    return min(
        alike,
        key=lambda c: (
            c.family != query.family,
            distance(mine, c.values.get("pytest-asyncio")),
            c.cell_id,
        ),
    ).signature


def _any_python(pins: Mapping[str, str], snapshot: Any) -> str | None:
    """Declared metadata refuses the pins on every Python the matrix considers."""
    from matrix.define import releases, selection

    reasons = [
        selection.declared_incompatible(py, pins, snapshot) for py in releases.python_versions()
    ]
    return reasons[-1] if reasons and all(reasons) else None
