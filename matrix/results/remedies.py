"""Remedies, measured: what each variant (and each of the reported project's attempts)
gives, per family of pytest-asyncio releases.

A *row* is a remedy or suite shape: a variant of the sync-plugin probe (or of another
probe it applies to), the unchanged probe's ``isolated`` scenario, or a switch to another
plugin (the attempts listed in ``variants.toml``). A cell's *result* in a row is judged
on the scenarios that run the suite as it is (every scenario but the order workarounds
``e2e-last`` and ``isolated``; the ``isolated`` attempt is judged on ``control`` and
``isolated``): ``works`` when they all pass, ``breaks`` with the worst one's signature, or
``hangs`` with the phase a timeout ended in. A *family* is a run of consecutive measured
pytest-asyncio releases whose cells give the same results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from matrix.define import variants as variant_catalogue
from matrix.define.cell import BASELINE, SYNC_PLUGIN, plugin_of
from matrix.define.versions import version_key
from matrix.results import answers, model
from matrix.results.model import SEVERITY
from matrix.results.record import Outcome, Record

UNMEASURED = frozenset({Outcome.UNRESOLVABLE, Outcome.NO_INTERPRETER, Outcome.INFRA})
ASYNCIO = "pytest-asyncio"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """One cell's result in one row: the worst judged record and how it reads."""

    cell_id: str
    python: str
    pins: Mapping[str, str]
    record: Record  # the worst judged scenario (its repro and log are the evidence)

    @property
    def state(self) -> str:
        """``works``, ``breaks`` or ``hangs``."""
        outcome = self.record.outcome
        return {Outcome.PASS: "works", Outcome.TIMEOUT: "hangs"}.get(outcome, "breaks")

    @property
    def label(self) -> str:
        """The result in words: ``works``, ``breaks: <signature>``, ``hangs in <phase>``."""
        if self.state == "works":
            return "works"
        if self.state == "hangs":
            phase = (self.record.hang or {}).get("phase")
            return f"hangs in {phase}" if phase else "hangs"
        return f"breaks: {self.record.signature or self.record.outcome.value}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Family:
    """Consecutive measured pytest-asyncio releases whose cells read the same."""

    first: str
    last: str
    labels: tuple[str, ...]
    results: tuple[Result, ...]

    @property
    def state(self) -> str:
        """``works``, ``breaks``, ``hangs``, or ``mixed`` when cells disagree."""
        states = {r.state for r in self.results}
        return states.pop() if len(states) == 1 else "mixed"

    @property
    def span(self) -> str:
        return self.first if self.first == self.last else f"{self.first}–{self.last}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    """A remedy or shape, on one plugin, with its families (oldest pytest-asyncio first)."""

    key: str  # the variant name, "isolated" or the plugin switched to
    what: str
    plugin: str
    kind: str  # "baseline", "remedy" or "shape"
    size: int
    attempt: int | None  # its place among the reported project's attempts (1-based)
    families: tuple[Family, ...]

    @property
    def works_on(self) -> list[str]:
        """The pytest-asyncio spans where every measured cell works."""
        return [f.span for f in self.families if f.state == "works"]


def rows(records: Iterable[Record]) -> list[Row]:
    """Every measured row: the bug as it is, the attempts in order, then the other variants."""
    latest = model.latest(records)
    by_cell: dict[str, dict[str, Record]] = {}
    for (cell_id, scenario), record in latest.items():
        by_cell.setdefault(cell_id, {})[scenario] = record
    known = variant_catalogue.load()
    out = [
        _row(
            by_cell,
            BASELINE,
            "nothing changed: e2e tests first, in one session",
            SYNC_PLUGIN,
            "baseline",
            0,
            None,
        )
    ]
    for number, attempt in enumerate(known.attempts, 1):
        if attempt.variant:
            v = known.variants[attempt.variant]
            out += [
                _row(by_cell, v.name, attempt.what, p, v.kind, v.size, number)
                for p in _plugins(by_cell, v.name)
            ]
        elif attempt.scenario:
            out.append(
                _row(
                    by_cell,
                    BASELINE,
                    attempt.what,
                    SYNC_PLUGIN,
                    "remedy",
                    2,
                    number,
                    key=attempt.scenario,
                    judged={"control", attempt.scenario},
                )
            )
        elif attempt.plugin:
            out.append(
                _row(
                    by_cell,
                    BASELINE,
                    attempt.what,
                    attempt.plugin,
                    "remedy",
                    5,
                    number,
                    key=attempt.plugin,
                )
            )
    tried = {a.variant for a in known.attempts}
    for v in known.variants.values():
        if v.name != BASELINE and v.name not in tried:
            out += [
                _row(by_cell, v.name, v.description, p, v.kind, v.size, None)
                for p in _plugins(by_cell, v.name)
            ]
    return [r for r in out if r.families]


def _plugins(by_cell: Mapping[str, Mapping[str, Record]], variant: str) -> list[str]:
    found = {
        plugin_of(r.requested)[0]
        for s in by_cell.values()
        for r in s.values()
        if r.variant == variant
    }
    return sorted(found)


def _row(
    by_cell: Mapping[str, Mapping[str, Record]],
    variant: str,
    what: str,
    plugin: str,
    kind: str,
    size: int,
    attempt: int | None,
    *,
    key: str | None = None,
    judged: set[str] | None = None,
) -> Row:
    results = []
    for cell_id, scenarios in sorted(by_cell.items()):
        any_record = next(iter(scenarios.values()))
        if (
            any_record.variant != variant
            or plugin_of(any_record.requested)[0] != plugin
            or any_record.probe.startswith("suite:")
        ):  # a user's suite is not a probe
            continue
        mine = [
            r
            for name, r in scenarios.items()
            if (name in judged if judged else name not in answers.WORKAROUNDS)
        ]
        if judged and not judged - {"control"} <= {r.scenario for r in mine}:
            continue  # the scenario this attempt is judged on was not run here
        result = _result(cell_id, mine)
        if result is not None:
            results.append(result)
    return Row(
        key=key or variant,
        what=what,
        plugin=plugin,
        kind=kind,
        size=size,
        attempt=attempt,
        families=tuple(families(results)),
    )


def _result(cell_id: str, records: Sequence[Record]) -> Result | None:
    if not records or any(r.outcome in UNMEASURED for r in records):
        return None
    # the worst scenario; among equals the one that runs the e2e tests (not the control)
    worst = min(
        records,
        key=lambda r: (SEVERITY.index(r.outcome.value), r.scenario == "control", r.scenario),
    )
    requested = dict(worst.requested)
    python = requested.pop("python", "") or ""
    return Result(cell_id=cell_id, python=python, pins=requested, record=worst)


def families(results: Iterable[Result]) -> list[Family]:
    """Runs of consecutive pytest-asyncio releases whose cells read the same."""
    by_version: dict[str, list[Result]] = {}
    for result in results:
        by_version.setdefault(result.pins.get(ASYNCIO, "none"), []).append(result)
    out: list[Family] = []
    for version in sorted(by_version, key=version_key):
        here = by_version[version]
        labels = tuple(sorted({r.label for r in here}))
        if out and out[-1].labels == labels:
            last = out[-1]
            out[-1] = dataclasses.replace(last, last=version, results=last.results + tuple(here))
        else:
            out.append(Family(first=version, last=version, labels=labels, results=tuple(here)))
    return out


def working(all_rows: Iterable[Row], plugin: str) -> list[Row]:
    """The remedies for users of ``plugin`` that work somewhere, smallest first (a switch
    to another plugin is a remedy for the sync plugin's users)."""

    def for_users_of(row: Row) -> str:
        return SYNC_PLUGIN if row.key == row.plugin else row.plugin

    mine = [r for r in all_rows if r.kind == "remedy" and r.works_on and for_users_of(r) == plugin]
    return sorted(mine, key=lambda r: (r.size, r.attempt or 99, r.key))


def for_signature(signature: str, records: Sequence[Record]) -> list[str]:
    """One line per measured variant remedy, for the combinations whose unchanged probe
    shows ``signature`` (same Python, pytest and pytest-asyncio): where it works, where not."""

    def base(record: Record) -> tuple:
        return tuple(record.requested.get(k) for k in ("python", "pytest", ASYNCIO))

    hit = {
        base(r)
        for r in model.latest(records).values()
        if r.variant == BASELINE and r.signature == signature
    }
    lines = []
    known = variant_catalogue.load().variants
    for row in rows(records):
        if row.kind != "remedy" or row.key not in known:  # whence words the others itself
            continue
        here = [res for f in row.families for res in f.results if base(res.record) in hit]
        if here:
            good = [res for res in here if res.state == "works"]
            versions = sorted({res.pins.get(ASYNCIO, "?") for res in good}, key=version_key)
            lines.append(
                f"{row.what} [{row.key}]: works in {len(good)} of {len(here)} such "
                "combinations" + (f" (pytest-asyncio {', '.join(versions)})" if good else "")
            )
    return lines
