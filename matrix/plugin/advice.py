"""The verdict and the fixes for the installed versions: the plugin's one question to the
records, asked here and nowhere else.

It is answered by the answer engine (:mod:`matrix.results.answers`, through ``check``'s
``engine_answer``) over the reference dataset shipped in the package (or the records given
with ``--loop-compat-from``): measured, inferred or unknown, with the fix that changes only
what matters; and by the remedies measured as variants of the sync-plugin probe
(``matrix.results.remedies``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from matrix.define import variants as catalogue
from matrix.define.cell import SYNC_PLUGIN, plugin_of
from matrix.results import answers, remedies, sources
from matrix.search import check
from matrix.search import pins as pins_mod

ASYNCIO = "pytest-asyncio"
GUARD = "guard"  # the variant that measures this plugin's guard
#: Remedies people try that the catalogue measures; listed where they break.
TRIED = ("no-logfire", "nest-asyncio", "async-tests-sync-page", "both-plugins", GUARD)


@dataclasses.dataclass(frozen=True)
class Advice:
    """What the records say about one set of installed versions."""

    verdict: str  # pass, bug, fail, ... or unknown
    basis: str  # measured (a cell with exactly these pins), inferred, or unknown
    cells: tuple[str, ...]  # the measured cells the verdict rests on (the nearest first)
    why: str  # an unknown's reason (between two measured releases that disagree, ...)
    fixes: tuple[str, ...]  # measured to work for these versions, smallest first
    not_working: tuple[str, ...]  # remedies measured not to work, with where each breaks
    guard_breaks: str | None  # why the guard is measured not to work here, else None
    source: str  # the records it was answered from


def answer_for(versions: Mapping[str, str], python: str, given: str | None = None) -> Advice:
    """The verdict and fixes for ``versions`` (distribution -> version) on Python ``python``
    (``3.13``), from the reference dataset, or from the records at ``given``."""
    source = sources.load(given, None) if given else sources.reference()
    pins = pins_mod.Pins("the installed environment", dict(versions), python)
    answer = check.lookup(pins, source)
    verdict = check.engine_answer(pins, source)
    rows = remedies.rows(source.records)
    basis = verdict.kind if verdict.kind in ("measured", "inferred") else "unknown"
    return Advice(
        verdict=verdict.verdict,
        basis=basis,
        cells=tuple(c.cell_id for c in verdict.evidence[:3]),
        why=verdict.why,
        fixes=tuple(_fixes(answer, verdict, rows, versions)),
        not_working=tuple(_not_working(rows, versions)),
        guard_breaks=_guard_breaks(rows, versions, python),
        source=source.describe(),
    )


def _fixes(
    answer: check.Answer,
    verdict: answers.Answer,
    rows: list[remedies.Row],
    versions: Mapping[str, str],
) -> list[str]:
    """Ways of running these very versions measured to pass, then the variant remedies
    that work on this pytest-asyncio (smallest first), then the engine's smallest fix."""
    out = [w for e in answer.matches for w in check.workarounds(e)]
    plugin = plugin_of(versions)[0]
    known = catalogue.load().variants  # the order workarounds are check's, above
    for row in remedies.working(rows, plugin):
        if row.key not in known:
            continue
        here = _here(row, versions)
        if here and all(r.state == "works" for r in here):
            out.append(
                f"{row.what} [{row.key}]: works with pytest-asyncio "
                f"{versions.get(ASYNCIO)} (measured on {len(here)} cells)"
            )
    for name, passed, ran in verdict.workarounds() if verdict.kind == "inferred" else ():
        if passed:
            out.append(
                f"{check.WORKAROUND_WORDS[name]}: passes in {passed} of the {ran} "
                f"nearest measured cells that ran {name}"
            )
    fix = verdict.fix
    if fix is not None:
        pins = " ".join(f"{d}=={v}" for d, v in fix.query.pins().items())
        change = f"; {fix.code_change}" if fix.code_change else ""
        out.append(f"{fix.text()}: {fix.answer.label} ({pins}){change}")
    return list(dict.fromkeys(out))


def _not_working(rows: list[remedies.Row], versions: Mapping[str, str]) -> list[str]:
    """The remedies people try, measured to break: where (pytest-asyncio spans) and how."""
    out = []
    for row in rows:
        if row.key not in TRIED or row.plugin != SYNC_PLUGIN:
            continue
        broken = [f for f in row.families if f.state != "works"]
        if not broken:
            continue
        here = _here(row, versions)
        mine = next((r.label for r in here if r.state != "works"), None)
        spans = "; ".join(f"{f.span}: {', '.join(f.labels)}" for f in broken)
        lead = f"{mine} with pytest-asyncio {versions.get(ASYNCIO)}" if mine else "breaks elsewhere"
        out.append(f"{row.what} [{row.key}]: {lead} (pytest-asyncio {spans})")
    return out


def _here(row: remedies.Row, versions: Mapping[str, str]) -> list[remedies.Result]:
    """The row's results on the user's pytest-asyncio release."""
    return [
        r for f in row.families for r in f.results if r.pins.get(ASYNCIO) == versions.get(ASYNCIO)
    ]


def _guard_breaks(rows: list[remedies.Row], versions: Mapping[str, str], python: str) -> str | None:
    """Why the guard is measured not to work with these versions: a ``guard`` cell with
    the same Python, pytest-asyncio and playwright that does not pass."""
    keys = (ASYNCIO, "playwright")
    for row in rows:
        if row.key != GUARD:
            continue
        for family in row.families:
            for result in family.results:
                same = all(result.pins.get(k) == versions.get(k) for k in keys)
                if same and result.python.startswith(python) and result.state != "works":
                    return f"{result.label} (measured: {result.cell_id})"
    return None
