"""Typed cell results: what a measured cell pins on each axis and what it says, read
through the results model (:mod:`matrix.results.model`).

The one **cell result** (:class:`CellResult`: scenario verdicts, the worst of them, the
verdicts of its two parts), the one **passes**, the one **newest**
(:func:`newest_key`), the one **suite key** (:func:`suite_of`), the workaround
scenarios (:data:`WORKAROUNDS`, read from the scenario catalogue) and the version
distance answers rank evidence and fixes by. The answer engine
(:mod:`matrix.results.answers`) and every command that lists cells read them here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from matrix.define import scenarios as scenario_catalogue
from matrix.define.cell import ASYNC_PLUGIN, BASELINE, NATIVE, NONE, SYNC_PLUGIN, plugin_of
from matrix.define.versions import version_key
from matrix.results import model
from matrix.results.model import SEVERITY, ScenarioVerdict

#: The axes a cell pins, in the order "newest" compares them (most significant first)
#: and answers list them. ``plugin`` is the version of the cell's Playwright plugin.
AXES = ("plugin", "pytest-asyncio", "pytest", "playwright", "python", "pytest-cov")
#: Verdicts that say something about the versions (the others are about the harness).
DECIDED = frozenset({"pass", "bug", "fail", "hollow", "timeout", "flaky"})
#: Scenarios that run the same suite another way (order, process): a workaround, not a fix.
WORKAROUNDS = {s.name: s.workaround for s in scenario_catalogue.ALL if s.workaround}
ABSENT = "none"  # an axis the cell does not install (no pytest-cov, no plugin)
CONTROL = "control"  # the scenario that runs the async tests alone
FAMILIES = (SYNC_PLUGIN, ASYNC_PLUGIN, NATIVE, NONE)


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

    @functools.cached_property
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

    def part(self, name: str) -> str | None:
        """The verdict of one part of the cell: ``control`` (the async tests alone) or
        ``browser`` (the worst of the other scenarios); None when it did not run."""
        return self._parts[name == CONTROL]

    @functools.cached_property
    def _parts(self) -> tuple[str | None, str | None]:
        """(browser, control) verdicts, worked out once: inference asks them often."""
        out = []
        for control in (False, True):
            chosen = [v for s, v in self.scenarios.items() if (s == CONTROL) == control]
            out.append(model.cell_outcome(chosen) if chosen else None)
        return out[0], out[1]

    @property
    def control_state(self) -> str | None:
        """The async tests' verdict alone, with its signature when they do not pass: how
        they fail decides what the browser scenarios can show (a collection failure stops
        them too; a failing async fixture leaves them to meet the conflict)."""
        verdict = self.part(CONTROL)
        if verdict in (None, "pass"):
            return verdict
        signature = self.scenarios[CONTROL].signature
        return f"{verdict} ({signature})" if signature else verdict

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


def axis_values(
    requested: Mapping[str, str],
    resolved: Mapping[str, str] | None = None,
    python: str | None = None,
) -> tuple[str, dict[str, str]]:
    """A cell's plugin family and its value on every axis (installed versions first)."""
    resolved = resolved or {}
    family, _ = plugin_of(requested)
    full = python or requested.get("python") or ""
    values = {"python": ".".join(full.split(".")[:2]) or ABSENT}
    for axis, dist in (
        ("pytest", "pytest"),
        ("pytest-asyncio", "pytest-asyncio"),
        ("playwright", "playwright"),
        ("pytest-cov", "pytest-cov"),
    ):
        values[axis] = (
            (resolved.get(dist) or requested.get(dist) or ABSENT)
            if dist in requested or axis != "pytest-cov"
            else ABSENT
        )
    values["plugin"] = (
        (resolved.get(family) or requested.get(family))
        if family in (SYNC_PLUGIN, ASYNC_PLUGIN)
        else ABSENT
    )
    return family, values


def suite_of(record: Any) -> str | None:
    """Which user's suite a record ran (its key), or None for the probes; records made
    before suites had keys name it in ``probe`` (``suite:<key>``). ``record`` is a
    record or its JSON dict."""
    get = record.get if isinstance(record, Mapping) else lambda k: getattr(record, k, None)
    if get("suite"):
        return get("suite")
    probe = str(get("probe") or "")
    return probe.removeprefix("suite:") if probe.startswith("suite:") else None


def cells(
    records: Iterable[Any], *, variant: str | None = BASELINE, suite: str | None = None
) -> list[CellResult]:
    """The cell results of the records of one variant (None: every variant) and one
    suite (None: the probes), from the results model's scenario verdicts."""
    chosen = [
        r for r in records if (variant is None or r.variant == variant) and suite_of(r) == suite
    ]
    out = []
    for cell_id, found in model.by_cell(model.verdicts(chosen)).items():
        latest = next(iter(found.values())).latest
        family, values = axis_values(latest.requested, latest.resolved, latest.python)
        out.append(
            CellResult(
                cell_id=cell_id,
                family=family,
                values=values,
                scenarios=found,
                variant=latest.variant,
                suite=suite_of(latest),
            )
        )
    return out


def newest_key(values: Mapping[str, Any]) -> tuple:
    """The one "newest" order: each axis of :data:`AXES` in turn (the plugin's release
    first, Python late), then coverage, each by :func:`version_key`."""
    return tuple(version_key(values.get(a)) for a in (*AXES, "coverage"))


def newest(candidates: Iterable[CellResult]) -> CellResult | None:
    """The candidate with the newest releases (:func:`newest_key`), then by cell id."""
    return max(candidates, key=lambda c: (newest_key(c.values), c.cell_id), default=None)


def _severity(verdict: str) -> int:
    return SEVERITY.index(verdict) if verdict in SEVERITY else len(SEVERITY)


def distance(a: str | None, b: str | None) -> int:
    """Version distance: a major counts 1000, a minor 10, a patch 1."""
    p, q = _release(a), _release(b)
    if p is None or q is None:  # installed on one side only: more than a patch away
        return 0 if a == b else 5
    return 1000 * abs(p[0] - q[0]) + 10 * abs(p[1] - q[1]) + (p[2] != q[2])


@functools.lru_cache(maxsize=4096)
def _release(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a version, parsed once; None when it is none."""
    try:
        return (Version(text or "").release + (0, 0, 0))[:3]
    except InvalidVersion:
        return None
