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
import itertools
import json
import math
import types
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matrix.define.versions import version_key

from matrix import log
from matrix.define.cell import ASYNC_PLUGIN, NATIVE, NONE, SYNC_PLUGIN, plugin_of
from matrix.errors import EarlierResultsError
from matrix.results import answers, model, signatures, sources, store
from matrix.results.model import BAD_OUTCOMES, DECIDED, SEVERITY, scenario_rank
from matrix.results.record import OPTIONAL, Record

__all__ = [
    "AXES", "SEVERITY", "SIGNATURES", "Previous", "cell_dicts", "cell_order",
    "cell_verdicts", "describe", "diff", "evidence", "fixes", "frame", "read_plan",
    "read_previous", "read_records", "record_json", "recommendations", "scenario_verdicts",
    "transition_summary", "transitions", "version_key",
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
AXES = ("plugin_version", "pytest-asyncio", "pytest", "playwright", "python", "pytest-cov",
        "coverage")
AXIS_LABELS = {"plugin_version": "plugin version", "python": "Python"}
RECORD_FIELDS = ("run_id", "cell_id", "python", "probe", "scenario", "outcome", "signature",
                 "message", "duration_s", "started_at", "repro", "log", "control_signature",
                 "attempt", "fingerprint", "carried_over", "measured_in", "schema")
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
    for sig in signatures.CATALOGUE if sig.loop_conflict
}


# ---------------------------------------------------------------- versions


def _present(value: Any) -> bool:
    """Not None, NaN (pandas' missing) or empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return False
    return value != ""


def _clean(value: Any) -> Any:
    """pandas' missing values back to None, numpy scalars to Python ones (for JSON)."""
    if not _present(value):
        return None
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- reading


def read_records(path: Path) -> tuple[list[Record], list[str]]:
    """Every whole record of a ``results.jsonl`` file, and a warning per skipped line.

    A line cut mid-write (an interrupted run) or otherwise malformed is skipped with a
    warning that names its line number; every whole record is kept, in file order.
    """
    typed, skipped = store.scan(path)
    warnings = [f"{path.name} line {number}: skipped, not a whole record "
                f"({type(exc).__name__}: {str(exc)[:120]})" for number, exc in skipped]
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
    columns = ["seq", *RECORD_FIELDS, "plugin", "plugin_version",
               *(f"tests.{c}" for c in COUNTS)]
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
    columns = ["seq", "cell_id", "scenario", "started_at", "attempt", "outcome", "run_id",
               "signature", "message"]
    rows = [types.SimpleNamespace(**{k: _clean(v) for k, v in row.items()})
            for row in df[columns].to_dict("records")]
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
    wanted = ["cell_id", "scenario", "outcome", "signature", "message", "python",
              *(c for c in scenarios.columns if c.startswith("requested."))]
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
    columns = ["cell_id", "python", "plugin", "plugin_version", "pytest", "pytest-asyncio",
               "playwright", "pytest-cov", "coverage", "verdict", "signature", "message",
               "signatures", "scenarios", "passing", "reason", "python_full"]
    return pd.DataFrame(rows, columns=columns)


def _measured_cell(group: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(group, key=lambda r: (SEVERITY.index(r["outcome"]),
                                          scenario_rank(r["scenario"])))
    worst = ranked[0]
    signatures = sorted({r["signature"] for r in ranked if _present(r["signature"])})
    row = _requested_columns(
        {k[len("requested."):]: v for k, v in worst.items() if k.startswith("requested.")})
    row.update(cell_id=worst["cell_id"], verdict=worst["outcome"],
               signature=_clean(worst["signature"]), message=_clean(worst["message"]),
               signatures=signatures, scenarios=len(ranked),
               passing=sum(r["outcome"] == "pass" for r in ranked), reason=None,
               python_full=_clean(worst["python"]))
    return row


def _planned_cell(planned: Mapping[str, Any]) -> dict[str, Any]:
    row = _requested_columns(planned.get("requested") or {})
    incompatible = planned.get("status") == INCOMPATIBLE
    row.update(cell_id=planned["cell_id"], verdict=INCOMPATIBLE if incompatible else NOT_RUN,
               signature=None, message=None, signatures=[], scenarios=0, passing=0,
               reason=planned.get("reason"), python_full=None)
    return row


def _requested_columns(requested: Mapping[str, Any]) -> dict[str, Any]:
    clean = {k: _clean(v) for k, v in requested.items()}
    plugin, version = plugin_of({k: v for k, v in clean.items() if v})
    row = {axis: clean.get(axis) for axis in AXES if axis != "plugin_version"}
    row.update(plugin=plugin, plugin_version=version)
    return row


def cell_order(cell: Mapping[str, Any]) -> tuple:
    """Sort key of a cell: Python, plugin, plugin version, playwright, pytest-asyncio,
    pytest, coverage, then id (so equal requests still sort the same way every time)."""
    plugin = cell["plugin"]
    return (version_key(cell["python"]),
            PLUGIN_ORDER.index(plugin) if plugin in PLUGIN_ORDER else len(PLUGIN_ORDER),
            *(version_key(cell.get(axis)) for axis in
              ("plugin_version", "playwright", "pytest-asyncio", "pytest", "pytest-cov",
               "coverage")),
            cell["cell_id"])


def cell_dicts(cells: pd.DataFrame) -> list[dict[str, Any]]:
    """The cells as plain dicts with None for missing values (ready for JSON)."""
    return [{k: (v if isinstance(v, list) else _clean(v)) for k, v in row.items()}
            for row in cells.to_dict("records")]


# ---------------------------------------------------------------- recommendations


def _combo(cell: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("cell_id", "plugin", "python", "plugin_version", "pytest-asyncio", "pytest",
            "playwright", "pytest-cov", "coverage", "scenarios")
    return {key: cell.get(key) for key in keys}


def _newest(cell: Mapping[str, Any]) -> tuple:
    return (*answers.newest_key({**cell, "plugin": cell.get("plugin_version")}), cell["cell_id"])


def recommendations(cells: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per Playwright plugin present: the newest combination whose every scenario passes.

    "Newest" compares, in order, the plugin's version, pytest-asyncio, pytest, playwright,
    Python and the coverage pins (see :data:`AXES`), each as a version. ``best`` is None
    when no measured cell of that plugin passes; ``by_python`` holds the newest passing
    combination for each Python version.
    """
    rows = cell_dicts(cells)
    out: dict[str, dict[str, Any]] = {}
    for plugin in PLUGIN_ORDER:
        mine = [c for c in rows if c["plugin"] == plugin]
        if not mine:
            continue
        passing = sorted((c for c in mine if c["verdict"] == "pass"), key=_newest)
        by_python = {c["python"]: _combo(c) for c in passing}  # sorted: the newest wins
        out[plugin] = {
            "plugin": plugin,
            "label": PLUGIN_LABELS[plugin],
            "best": _combo(passing[-1]) if passing else None,
            "by_python": dict(sorted(by_python.items(), key=lambda kv: version_key(kv[0]))),
            "measured": sum(c["verdict"] not in (INCOMPATIBLE, NOT_RUN) for c in mine),
            "passing": len(passing),
        }
    return out


def describe(combo: Mapping[str, Any]) -> str:
    """A combination in words: ``pytest-playwright-asyncio 0.10.0 with pytest-asyncio
    1.3.0, pytest 9.0.0, playwright 1.56.0, pytest-cov 7.0.0 on Python 3.13``."""
    head = combo["plugin"] if combo.get("plugin_version") is None else (
        f"{combo['plugin']} {combo['plugin_version']}")
    if combo["plugin"] == NATIVE:
        head = "Playwright's async API (no plugin)"
    parts = [f"{dist} {combo[dist]}" for dist in
             ("pytest-asyncio", "pytest", "playwright", "pytest-cov", "coverage")
             if combo.get(dist)]
    python = f" on Python {combo['python']}" if combo.get("python") else ""
    return f"{head} with {', '.join(parts)}{python}"


NO_FIX = "no measured combination passes every scenario yet; see the signatures below"


def fixes(scenarios: pd.DataFrame, recs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per plugin, the one-line fixes the records support, the first being the headline.

    Each line is derived from measured outcomes: pinning the plugin's own newest passing
    combination, switching to another plugin that passes, or a workaround scenario
    (``isolated``, ``e2e-last``) that passes where ``e2e-first`` hits a loop conflict.
    """
    out: dict[str, list[str]] = {}
    for plugin, rec in recs.items():
        lines = []
        if rec["best"]:
            lines.append(f"use {describe(rec['best'])}")
        if plugin != ASYNC and recs.get(ASYNC, {}).get("best") and not rec["best"]:
            best = recs[ASYNC]["best"]
            lines.append(f"switch from {plugin if plugin != NATIVE else 'the bare async API'}"
                         f" to {describe(best)}")
        lines += _workarounds(scenarios, plugin)
        if plugin == SYNC and recs.get(NATIVE, {}).get("best") and not rec["best"]:
            lines.append(f"or drive {describe(recs[NATIVE]['best'])}")
        out[plugin] = lines or [NO_FIX]
    return out


def _workarounds(scenarios: pd.DataFrame, plugin: str) -> list[str]:
    mine = scenarios[scenarios["plugin"] == plugin]
    outcome = mine.pivot_table(index="cell_id", columns="scenario", values="outcome",
                               aggfunc="first") if not mine.empty else pd.DataFrame()
    if "e2e-first" not in outcome:
        return []
    hit = outcome[outcome["e2e-first"] == "bug"]
    lines = []
    for scenario, words in (("isolated", "run the e2e tests in a separate process"),
                            ("e2e-last", "run the e2e tests after the async tests")):
        if scenario in hit and len(hit) and (hit[scenario] == "pass").any():
            passed = int((hit[scenario] == "pass").sum())
            lines.append(f"or {words}: the {scenario} scenario passes in {passed} of the "
                         f"{len(hit)} cells where e2e-first hits a loop conflict")
    return lines


# ---------------------------------------------------------------- version boundaries


def transitions(cells: pd.DataFrame) -> list[dict[str, Any]]:
    """Where the verdict changes along one axis with everything else fixed.

    For each axis, cells with a decided verdict (pass, bug or fail) are grouped by every
    other axis and the plugin, sorted by the axis' version, and each neighbouring pair
    whose verdicts differ is one transition: ``breaks`` (last good -> first bad),
    ``fixes`` (last bad -> first good) or ``changes`` (bug <-> fail, or one loop-conflict
    signature to another). Cells that did not
    decide (timeout, infra, unresolvable, ...) are stepped over, so a pair is the
    narrowest measured range.
    """
    rows = [c for c in cell_dicts(cells) if c["verdict"] in DECIDED]
    out = []
    for axis in AXES:
        others = [a for a in AXES if a != axis]
        lines: dict[tuple, list[dict[str, Any]]] = {}
        for cell in rows:
            if _present(cell[axis]):
                key = (cell["plugin"], *(cell[a] or "" for a in others))
                lines.setdefault(key, []).append(cell)
        for line in sorted(lines.values(), key=lambda cs: cell_order(cs[0])):
            line.sort(key=lambda c: (version_key(c[axis]), c["cell_id"]))
            out += [_transition(axis, others, a, b) for a, b in itertools.pairwise(line)
                    if _differ(a, b) and a[axis] != b[axis]]
    return out


def _differ(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # Two loop conflicts with different signatures are a change too: which release gives
    # which error is part of what the matrix measures.
    return a["verdict"] != b["verdict"] or (a["verdict"] == "bug" and a["signature"] != b["signature"])


def _transition(axis: str, others: list[str], before: dict, after: dict) -> dict[str, Any]:
    if before["verdict"] == "pass":
        kind = "breaks"
    else:
        kind = "fixes" if after["verdict"] == "pass" else "changes"
    context = {"plugin": before["plugin"]}
    context.update({a: before[a] for a in others if _present(before[a])})
    return {"axis": axis, "kind": kind, "before": before[axis], "after": after[axis],
            "before_verdict": before["verdict"], "after_verdict": after["verdict"],
            "before_signature": before["signature"], "after_signature": after["signature"],
            "before_cell": before["cell_id"], "after_cell": after["cell_id"],
            "context": context}


def transition_summary(found: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Transitions that share axis, versions, verdicts and signatures, merged into one
    entry listing the contexts (the fixed other versions) where each was seen."""
    merged: dict[tuple, dict[str, Any]] = {}
    for t in found:
        fields = ("axis", "kind", "before", "after", "before_verdict", "after_verdict",
                  "before_signature", "after_signature")
        entry = merged.setdefault(tuple(t[k] or "" for k in fields),
                                  {k: t[k] for k in fields} | {"contexts": []})
        entry["contexts"].append({"context": t["context"], "before_cell": t["before_cell"],
                                  "after_cell": t["after_cell"]})
    return sorted(merged.values(), key=lambda e: (
        AXES.index(e["axis"]), version_key(e["before"]), version_key(e["after"]),
        e["before_verdict"], e["after_verdict"], e["before_signature"] or "",
        e["after_signature"] or ""))


# ---------------------------------------------------------------- changes between runs


@dataclasses.dataclass(frozen=True)
class Previous:
    """A previous run's scenario verdicts (cell_id, scenario, outcome, signature)."""

    scenarios: pd.DataFrame
    date: str | None  # the newest started_at of that run
    source: str  # file name it came from


def read_previous(path: Path) -> Previous:
    """A previous run's verdicts from a folder or file holding ``results.jsonl`` (a results
    folder), ``results.json`` or ``summary.json`` (a published site), read by
    :func:`matrix.results.sources.read_earlier`. Raises :class:`EarlierResultsError` for
    anything missing or malformed."""
    earlier = sources.read_earlier(path, summary=True)
    columns = ["cell_id", "scenario", "outcome", "signature"]
    if earlier.verdicts is not None:
        return Previous(pd.DataFrame(earlier.verdicts, columns=columns), earlier.date,
                        earlier.source)
    if not earlier.records:
        raise EarlierResultsError(f"{earlier.source} holds no readable record")
    verdicts = scenario_verdicts(frame(earlier.records))
    return Previous(verdicts[columns], earlier.date, earlier.source)


def diff(current: pd.DataFrame, previous: Previous) -> dict[str, list[dict[str, Any]]]:
    """Scenario verdicts compared by ``(cell_id, scenario)``: ``regressed`` (passed, now
    bug/fail/timeout/flaky), ``fixed`` (the reverse), ``changed`` (any other change of
    outcome or signature, e.g. bug -> fail or pass -> infra), ``new`` and ``gone``."""
    before, after = _verdict_map(previous.scenarios), _verdict_map(current)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in
                                            ("regressed", "fixed", "changed", "new", "gone")}
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], scenario_rank(k[1]))):
        old, new = before.get(key), after.get(key)
        kind = _change(old, new)
        if kind:
            out[kind].append({"cell_id": key[0], "scenario": key[1],
                              "before": old[0] if old else None,
                              "before_signature": old[1] if old else None,
                              "after": new[0] if new else None,
                              "after_signature": new[1] if new else None})
    return out


def _verdict_map(scenarios: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(r["cell_id"], r["scenario"]): (r["outcome"], _clean(r["signature"]))
            for r in scenarios[["cell_id", "scenario", "outcome", "signature"]]
            .to_dict("records")}


def _change(old: tuple | None, new: tuple | None) -> str | None:
    if old is None or new is None:
        return "new" if old is None else "gone"
    if old[0] == "pass" and new[0] in BAD_OUTCOMES:
        return "regressed"
    if old[0] in BAD_OUTCOMES and new[0] == "pass":
        return "fixed"
    return "changed" if old != new else None


# ---------------------------------------------------------------- evidence


def evidence(df: pd.DataFrame, scenarios: pd.DataFrame, cells: pd.DataFrame,
             plan: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the run rests on: when it ran, how long, how many cells, scenarios, records,
    scenario results measured and carried over, retries and flaky verdicts, and the count
    of each verdict."""
    started = df["started_at"].dropna()
    first, last = (started.min(), started.max()) if len(started) else (None, None)
    verdicts = cells["verdict"].value_counts()
    carried = int(scenarios["carried_over"].fillna(False).astype(bool).sum()) if len(scenarios) else 0
    return {
        "run_ids": sorted(df["run_id"].dropna().unique().tolist()),
        "profile": (plan or {}).get("profile"),
        "snapshot_time": (plan or {}).get("snapshot_time"),
        "started": first, "finished": last, "wall_s": _seconds_between(first, last),
        "test_time_s": round(float(df["duration_s"].fillna(0).sum()), 1),
        "records": len(df), "scenarios": len(scenarios), "cells": len(cells),
        # Scenario results as the page shows them: measured by the runs here, or carried
        # over from an earlier run whose resolved installation, code and Python were equal.
        "carried_over": carried, "measured_scenarios": len(scenarios) - carried,
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
