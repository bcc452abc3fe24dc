"""The analysis: records read into pandas, and what the published site says about them.

Words used here and on the site:

* A *scenario verdict* is the record of the latest attempt of one ``(cell_id, scenario)``,
  latest by ``started_at``, then ``attempt``, then position in the file. Its outcome is
  ``flaky`` instead when any attempt said ``flaky``, or when two attempts of the same run
  disagree between ``pass`` and a failure (``bug``/``fail``): the latest attempt alone would
  then hide a coin toss. A flaky verdict keeps the newest signature any attempt showed.
* A *cell verdict* is the worst of its scenario verdicts, in :data:`SEVERITY` order. A loop
  conflict anywhere in a cell is what a user of that combination hits, so it outranks every
  other failure; a real failure outranks a timeout (which may be the machine's fault);
  ``flaky`` and ``infra`` say the harness could not give a firm answer; ``unresolvable`` and
  ``no-interpreter`` mean the tests never ran; ``pass`` means every scenario passed.
* Cells of ``plan.json`` add two states that are not outcomes: ``incompatible`` (declared
  incompatible by package metadata, never run) and ``not-run`` (planned, no record yet).
  Records win over the plan: a measured cell shows what was measured.
* A cell's *plugin* is the Playwright plugin it pins: ``pytest-playwright`` (sync),
  ``pytest-playwright-asyncio``, ``native-async`` (Playwright without a plugin) or ``none``
  (no Playwright: the control probe alone).
* *Findings* (what ``bisect`` and ``explain`` found) are read by
  :mod:`matrix.results.findings`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from matrix import log
from matrix.define.cell import ASYNC_PLUGIN, NATIVE, NONE, SYNC_PLUGIN, plugin_of
from matrix.define.versions import version_key
from matrix.results import answers, model, signatures, store
from matrix.results import remedies as remedy_rows
from matrix.results.model import SEVERITY, scenario_rank
from matrix.results.record import OPTIONAL, Record

__all__ = [
    "AXES",
    "SEVERITY",
    "SIGNATURES",
    "Analysis",
    "Recommendation",
    "cell_dicts",
    "cell_order",
    "cell_verdicts",
    "clean",
    "describe",
    "evidence",
    "fixes",
    "frame",
    "read_plan",
    "read_records",
    "record_json",
    "recommendations",
    "scenario_verdicts",
    "version_key",
]

#: Outcomes from worst to best; a cell's verdict is the first one any scenario has.
INCOMPATIBLE, NOT_RUN = "incompatible", "not-run"
#: Every state a cell can be in, in the order the legend lists them.
STATES = (*SEVERITY[::-1], INCOMPATIBLE, NOT_RUN)
SYNC, ASYNC = SYNC_PLUGIN, ASYNC_PLUGIN
#: The ways to drive Playwright, in the order the page lists them (grids, recommendations).
PLUGIN_ORDER = (SYNC, ASYNC, NATIVE)
PLUGIN_LABELS = {
    SYNC: "pytest-playwright (sync)",
    ASYNC: "pytest-playwright-asyncio",
    NATIVE: "Playwright async API, no plugin",
    NONE: "no Playwright (control)",
}
#: Axes a cell varies along, in the order recommendations compare them (most telling first).
AXES = (
    "plugin_version",
    "pytest-asyncio",
    "pytest",
    "playwright",
    "python",
    "pytest-cov",
    "coverage",
)
AXIS_LABELS = {"plugin_version": "plugin version", "python": "Python"}
#: What a cell of the table pins, in the order its columns (and the page's cells) show them.
CELL_PINS = (
    "python",
    "plugin",
    "plugin_version",
    "pytest",
    "pytest-asyncio",
    "playwright",
    "pytest-cov",
    "coverage",
)
RECORD_FIELDS = (
    "run_id",
    "cell_id",
    "python",
    "probe",
    "scenario",
    "outcome",
    "signature",
    "message",
    "duration_s",
    "started_at",
    "repro",
    "log",
    "control_signature",
    "attempt",
    "fingerprint",
    "carried_over",
    "measured_in",
    "schema",
)
COUNTS = ("passed", "failed", "errors", "skipped")
_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Record))


@dataclasses.dataclass(frozen=True)
class SignatureMeaning:
    """What a loop-conflict signature means and what is known to fix it."""

    text: str  # as the user sees it in pytest's output
    meaning: str
    fixes: tuple[str, ...]


#: The loop-conflict catalogue (one source: matrix.results.signatures). Which releases produce
#: each one is measured, not listed here.
SIGNATURES: dict[str, SignatureMeaning] = {
    sig.id: SignatureMeaning(sig.example, sig.meaning, sig.fixes)
    for sig in signatures.CATALOGUE
    if sig.loop_conflict
}


# ---------------------------------------------------------------- versions


def present(value: Any) -> bool:
    """Not None, NaN (pandas' missing) or empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return False
    return value != ""


def clean(value: Any) -> Any:
    """pandas' missing values back to None, numpy scalars to Python ones (for JSON)."""
    if not present(value):
        return None
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- reading


def read_records(path: Path) -> tuple[list[Record], list[str]]:
    """Every whole record of a ``results.jsonl`` file, and a warning per skipped line.

    A line cut mid-write (an interrupted run) or otherwise malformed is skipped with a
    warning that names its line number; every whole record is kept, in file order.
    """
    typed, skipped = store.scan(path)
    warnings = [
        f"{path.name} line {number}: skipped, not a whole record "
        f"({type(exc).__name__}: {str(exc)[:120]})"
        for number, exc in skipped
    ]
    for warning in warnings:
        log.warning(warning)
    return typed, warnings


def record_json(typed: Record) -> dict[str, Any]:
    """A record as the site's ``results.json`` holds it: every field, defaults filled in.

    Only the exports need the dict: reading the fields back (not Record.to_json, whose
    deep copy costs seconds at 10,000 records) gives the same dict."""
    record = {name: getattr(typed, name) for name in _FIELD_NAMES}
    record["outcome"] = typed.outcome.value
    record["tests"] = {name: getattr(typed.tests, name) for name in COUNTS}
    for name in OPTIONAL:  # a suite's fields, absent from probe records as in to_json
        if not record[name]:
            del record[name]
        elif isinstance(record[name], tuple):
            record[name] = list(record[name])
    return record


def record_order(record: Record) -> tuple:
    """Records by cell, scenario, attempt and start: shards merged and one run agree."""
    return (record.cell_id, record.scenario, record.attempt, record.started_at)


def read_plan(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """``plan.json`` if it exists and is readable, else None (and why, if it was unreadable)."""
    if not path.is_file():
        return None, []
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        cells = plan["cells"]
        if not isinstance(cells, list) or not all(
            isinstance(c, dict) and isinstance(c.get("cell_id"), str) for c in cells
        ):
            raise TypeError("cells is not a list of cells")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        warning = f"{path.name}: ignored, unreadable ({type(exc).__name__}: {str(exc)[:120]})"
        log.warning(warning)
        return None, [warning]
    return plan, []


def frame(records: Iterable[Record]) -> pd.DataFrame:
    """One row per record: the record's fields, with ``requested.<dist>``,
    ``resolved.<dist>`` and ``tests.<count>`` flattened into columns, plus ``seq`` (the
    record's position in the file), ``plugin`` and ``plugin_version``.

    Versions stay strings: the frame is built from the records, never through a reader
    that would turn "3.10" into 3.1.
    """
    rows = [_flat(seq, record) for seq, record in enumerate(records)]
    columns = ["seq", *RECORD_FIELDS, "plugin", "plugin_version", *(f"tests.{c}" for c in COUNTS)]
    extra = sorted({k for row in rows for k in row} - set(columns))
    df = pd.DataFrame(rows, columns=columns + extra)
    for count in COUNTS:
        df[f"tests.{count}"] = df[f"tests.{count}"].fillna(0).astype("int64")
    df["attempt"] = df["attempt"].fillna(1).astype("int64")
    df["duration_s"] = df["duration_s"].astype("float64")
    return df


def _flat(seq: int, record: Record) -> dict[str, Any]:
    """One record as a frame row (the edge where a record becomes a dict: pandas')."""
    row: dict[str, Any] = {"seq": seq}
    row.update({field: getattr(record, field) for field in RECORD_FIELDS})
    row["outcome"] = record.outcome.value
    row["plugin"], row["plugin_version"] = plugin_of(record.requested or {})
    for group in ("requested", "resolved"):
        for key, value in (getattr(record, group) or {}).items():
            row[f"{group}.{key}"] = value
    row.update({f"tests.{name}": getattr(record.tests, name) for name in COUNTS})
    return row


# ---------------------------------------------------------------- verdicts


def scenario_verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ``(cell_id, scenario)``: the record of its latest attempt, with the
    verdict's ``outcome``, ``signature`` and ``message`` (see :mod:`matrix.results.model`)
    and ``attempts`` (how many records it has)."""
    columns = [
        "seq",
        "cell_id",
        "scenario",
        "started_at",
        "attempt",
        "outcome",
        "run_id",
        "signature",
        "message",
    ]
    rows = [
        types.SimpleNamespace(**{k: clean(v) for k, v in row.items()})
        for row in df[columns].to_dict("records")
    ]
    found = model.verdicts(rows)
    keys = ["cell_id", "scenario"]
    chosen = df.set_index("seq").loc[[v.latest.seq for v in found.values()]].reset_index()
    if chosen.empty:
        return chosen[[*keys, *(c for c in chosen.columns if c not in keys)]].assign(attempts=0)
    chosen["outcome"] = [v.outcome for v in found.values()]
    chosen["signature"] = [v.signature for v in found.values()]
    chosen["message"] = [v.message for v in found.values()]
    chosen["attempts"] = [v.attempts for v in found.values()]
    chosen = chosen.sort_values(keys, kind="stable").reset_index(drop=True)
    return chosen[[*keys, *(c for c in chosen.columns if c not in keys)]]


def cell_verdicts(scenarios: pd.DataFrame, plan: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per cell: its requested versions, plugin, ``verdict`` (worst scenario, see
    :data:`SEVERITY`), the worst scenario's ``signature`` and ``message``, every signature
    seen, scenario counts, and, for cells only the plan knows, ``incompatible`` or
    ``not-run`` with the plan's ``reason``. Sorted by Python, plugin, then versions."""
    wanted = [
        "cell_id",
        "scenario",
        "outcome",
        "signature",
        "message",
        "python",
        *(c for c in scenarios.columns if c.startswith("requested.")),
    ]
    by_cell: dict[str, list[dict[str, Any]]] = {}
    # One conversion of the columns in use: per-group frames cost seconds at 10,000 rows.
    for row in scenarios[wanted].to_dict("records"):
        by_cell.setdefault(row["cell_id"], []).append(row)
    rows = [_measured_cell(group) for group in by_cell.values()]
    for planned in (plan or {}).get("cells", []):
        if planned["cell_id"] not in by_cell:
            by_cell[planned["cell_id"]] = []
            rows.append(_planned_cell(planned))
    rows.sort(key=cell_order)
    columns = [
        "cell_id",
        *CELL_PINS,
        "verdict",
        "signature",
        "message",
        "signatures",
        "scenarios",
        "passing",
        "reason",
        "python_full",
    ]
    return pd.DataFrame(rows, columns=columns)


def _measured_cell(group: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(
        group, key=lambda r: (SEVERITY.index(r["outcome"]), scenario_rank(r["scenario"]))
    )
    worst = ranked[0]
    signatures = sorted({r["signature"] for r in ranked if present(r["signature"])})
    row = _requested_columns(
        {k[len("requested.") :]: v for k, v in worst.items() if k.startswith("requested.")}
    )
    row.update(
        cell_id=worst["cell_id"],
        verdict=worst["outcome"],
        signature=clean(worst["signature"]),
        message=clean(worst["message"]),
        signatures=signatures,
        scenarios=len(ranked),
        passing=sum(r["outcome"] == "pass" for r in ranked),
        reason=None,
        python_full=clean(worst["python"]),
    )
    return row


def _planned_cell(planned: Mapping[str, Any]) -> dict[str, Any]:
    row = _requested_columns(planned.get("requested") or {})
    incompatible = planned.get("status") == INCOMPATIBLE
    row.update(
        cell_id=planned["cell_id"],
        verdict=INCOMPATIBLE if incompatible else NOT_RUN,
        signature=None,
        message=None,
        signatures=[],
        scenarios=0,
        passing=0,
        reason=planned.get("reason"),
        python_full=None,
    )
    return row


def _requested_columns(requested: Mapping[str, Any]) -> dict[str, Any]:
    given = {k: clean(v) for k, v in requested.items()}
    plugin, version = plugin_of({k: v for k, v in given.items() if v})
    row = {axis: given.get(axis) for axis in AXES if axis != "plugin_version"}
    row.update(plugin=plugin, plugin_version=version)
    return row


def cell_order(cell: Mapping[str, Any]) -> tuple:
    """Sort key of a cell: Python, plugin, plugin version, playwright, pytest-asyncio,
    pytest, coverage, then id (so equal requests still sort the same way every time)."""
    plugin = cell["plugin"]
    return (
        version_key(cell["python"]),
        PLUGIN_ORDER.index(plugin) if plugin in PLUGIN_ORDER else len(PLUGIN_ORDER),
        *(
            version_key(cell.get(axis))
            for axis in (
                "plugin_version",
                "playwright",
                "pytest-asyncio",
                "pytest",
                "pytest-cov",
                "coverage",
            )
        ),
        cell["cell_id"],
    )


def cell_dicts(cells: pd.DataFrame) -> list[dict[str, Any]]:
    """The cells as plain dicts with None for missing values (ready for JSON)."""
    return [
        {k: (v if isinstance(v, list) else clean(v)) for k, v in row.items()}
        for row in cells.to_dict("records")
    ]


# ---------------------------------------------------------------- recommendations


def _combo(cell: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "cell_id",
        "plugin",
        "python",
        "plugin_version",
        "pytest-asyncio",
        "pytest",
        "playwright",
        "pytest-cov",
        "coverage",
        "scenarios",
    )
    return {key: cell.get(key) for key in keys}


def _newest(cell: Mapping[str, Any]) -> tuple:
    return (*answers.newest_key({**cell, "plugin": cell.get("plugin_version")}), cell["cell_id"])


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """One Playwright plugin's answer: its newest passing combination (None when no measured
    cell of it passes), the newest passing one per Python, and how many of its cells were
    measured and passed. A combination is a dict (``cell_id``, plugin and versions): it
    goes to summary.json as it is."""

    plugin: str
    label: str
    best: dict[str, Any] | None
    by_python: dict[str, dict[str, Any]]
    measured: int
    passing: int

    def to_json(self) -> dict[str, Any]:
        """What summary.json holds for it."""
        return dataclasses.asdict(self)


def recommendations(cells: pd.DataFrame) -> dict[str, Recommendation]:
    """Per Playwright plugin present: the newest combination whose every scenario passes.

    "Newest" compares, in order, the plugin's version, pytest-asyncio, pytest, playwright,
    Python and the coverage pins (see :data:`AXES`), each as a version. ``best`` is None
    when no measured cell of that plugin passes; ``by_python`` holds the newest passing
    combination for each Python version.
    """
    rows = cell_dicts(cells)
    out: dict[str, Recommendation] = {}
    for plugin in PLUGIN_ORDER:
        mine = [c for c in rows if c["plugin"] == plugin]
        if not mine:
            continue
        passing = sorted((c for c in mine if c["verdict"] == "pass"), key=_newest)
        by_python = {c["python"]: _combo(c) for c in passing}  # sorted: the newest wins
        out[plugin] = Recommendation(
            plugin=plugin,
            label=PLUGIN_LABELS[plugin],
            best=_combo(passing[-1]) if passing else None,
            by_python=dict(sorted(by_python.items(), key=lambda kv: version_key(kv[0]))),
            measured=sum(c["verdict"] not in (INCOMPATIBLE, NOT_RUN) for c in mine),
            passing=len(passing),
        )
    return out


def describe(combo: Mapping[str, Any]) -> str:
    """A combination in words: ``pytest-playwright-asyncio 0.10.0 with pytest-asyncio
    1.3.0, pytest 9.0.0, playwright 1.56.0, pytest-cov 7.0.0 on Python 3.13``."""
    head = (
        combo["plugin"]
        if combo.get("plugin_version") is None
        else (f"{combo['plugin']} {combo['plugin_version']}")
    )
    if combo["plugin"] == NATIVE:
        head = "Playwright's async API (no plugin)"
    parts = [
        f"{dist} {combo[dist]}"
        for dist in ("pytest-asyncio", "pytest", "playwright", "pytest-cov", "coverage")
        if combo.get(dist)
    ]
    python = f" on Python {combo['python']}" if combo.get("python") else ""
    return f"{head} with {', '.join(parts)}{python}"


NO_FIX = "no measured combination passes every scenario yet; see the signatures below"


def fixes(scenarios: pd.DataFrame, recs: Mapping[str, Recommendation]) -> dict[str, list[str]]:
    """Per plugin, the one-line fixes the records support, the first being the headline.

    Each line is derived from measured outcomes: pinning the plugin's own newest passing
    combination, switching to another plugin that passes, or a workaround scenario
    (``isolated``, ``e2e-last``) that passes where ``e2e-first`` hits a loop conflict.
    """
    out: dict[str, list[str]] = {}
    for plugin, rec in recs.items():
        lines = []
        if rec.best:
            lines.append(f"use {describe(rec.best)}")
        if plugin != ASYNC and _best(recs, ASYNC) and not rec.best:
            best = _best(recs, ASYNC)
            lines.append(
                f"switch from {plugin if plugin != NATIVE else 'the bare async API'}"
                f" to {describe(best)}"
            )
        lines += _workarounds(scenarios, plugin)
        if plugin == SYNC and _best(recs, NATIVE) and not rec.best:
            lines.append(f"or drive {describe(_best(recs, NATIVE))}")
        out[plugin] = lines or [NO_FIX]
    return out


def _best(recs: Mapping[str, Recommendation], plugin: str) -> dict[str, Any] | None:
    """The newest passing combination of ``plugin``, None when it has none or no cell."""
    return recs[plugin].best if plugin in recs else None


def _workarounds(scenarios: pd.DataFrame, plugin: str) -> list[str]:
    mine = scenarios[scenarios["plugin"] == plugin]
    outcome = (
        mine.pivot_table(index="cell_id", columns="scenario", values="outcome", aggfunc="first")
        if not mine.empty
        else pd.DataFrame()
    )
    if "e2e-first" not in outcome:
        return []
    hit = outcome[outcome["e2e-first"] == "bug"]
    lines = []
    for scenario, words in (
        ("isolated", "run the e2e tests in a separate process"),
        ("e2e-last", "run the e2e tests after the async tests"),
    ):
        if scenario in hit and len(hit) and (hit[scenario] == "pass").any():
            passed = int((hit[scenario] == "pass").sum())
            lines.append(
                f"or {words}: the {scenario} scenario passes in {passed} of the "
                f"{len(hit)} cells where e2e-first hits a loop conflict"
            )
    return lines


# ---------------------------------------------------------------- evidence


def evidence(
    df: pd.DataFrame, scenarios: pd.DataFrame, cells: pd.DataFrame, plan: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What the run rests on: when it ran, how long, how many cells, scenarios, records,
    scenario results measured and carried over, retries and flaky verdicts, and the count
    of each verdict."""
    started = df["started_at"].dropna()
    first, last = (started.min(), started.max()) if len(started) else (None, None)
    verdicts = cells["verdict"].value_counts()
    carried = (
        int(scenarios["carried_over"].fillna(False).astype(bool).sum()) if len(scenarios) else 0
    )
    return {
        "run_ids": sorted(df["run_id"].dropna().unique().tolist()),
        "profile": (plan or {}).get("profile"),
        "snapshot_time": (plan or {}).get("snapshot_time"),
        "started": first,
        "finished": last,
        "wall_s": _seconds_between(first, last),
        "test_time_s": round(float(df["duration_s"].fillna(0).sum()), 1),
        "records": len(df),
        "scenarios": len(scenarios),
        "cells": len(cells),
        # Scenario results as the page shows them: measured by the runs here, or carried
        # over from an earlier run whose resolved installation, code and Python were equal.
        "carried_over": carried,
        "measured_scenarios": len(scenarios) - carried,
        "measured_cells": int(sum(verdicts.get(s, 0) for s in SEVERITY)),
        "retried_scenarios": int((scenarios["attempts"] > 1).sum()) if len(scenarios) else 0,
        "retries": len(df) - len(scenarios),
        "flaky": int((scenarios["outcome"] == "flaky").sum()) if len(scenarios) else 0,
        "cell_verdicts": {s: int(verdicts.get(s, 0)) for s in STATES},
    }


def _seconds_between(first: str | None, last: str | None) -> float | None:
    try:
        start = datetime.fromisoformat(str(first).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    except ValueError:
        return None
    return round((end - start).total_seconds(), 1)


# ---------------------------------------------------------------- the analysis


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Everything the page and the JSON files are made from."""

    records: list[Record]  # baseline records, probes first, then users' suites
    df: pd.DataFrame
    scenarios: pd.DataFrame
    cells: list[dict[str, Any]]
    recs: dict[str, Recommendation]
    fixes: dict[str, list[str]]
    transitions: list[dict[str, Any]]
    changes: dict[str, Any]
    evidence: dict[str, Any]
    warnings: list[str]
    bisect: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # oldest first
    explain: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    provenance: dict[str, Any] | None = None  # of a dataset measured elsewhere (the reference)
    suites: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # users' own suites
    # Cells run with a variant (a changed probe) are kept out of the grids, the verdicts
    # and the recommendations: they answer "does this remedy work", in their own section.
    variant_records: list[Record] = dataclasses.field(default_factory=list)
    remedies: list[remedy_rows.Row] = dataclasses.field(default_factory=list)
    not_applicable: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: The ask box's answers, computed by the answer engine and whence (matrix.publish.ask).
    asked: dict[str, Any] = dataclasses.field(default_factory=dict)
