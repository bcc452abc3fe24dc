"""The page's payload: the data its script reads, as JSON safe inside ``<script>``.

Records go out columnar (each text column's distinct values once, rows of codes), cells
with their scenario verdicts, the states' looks, the catalogue and the ask box's data. Data
for the script is JSON with ``<``, ``>`` and ``&`` written as ``\\u003c`` and the like, and
the script inserts text with ``textContent`` only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from matrix.define.cell import plugin_of
from matrix.define.versions import version_key
from matrix.publish.analysis import CELL_PINS, COUNTS, SEVERITY, SIGNATURES, Analysis, describe
from matrix.publish.exports import TEMPLATES
from matrix.publish.grids import STATE_STYLE, slug
from matrix.publish.views import fix_views
from matrix.results import model
from matrix.results import signatures as signature_catalogue
from matrix.results.record import Record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


#: The records table's columns: key, heading, kind and whether it is shown (see the file).
RECORD_COLUMNS: tuple[tuple[str, str, str, bool], ...] = tuple(
    tuple(c) for c in tomllib.loads((TEMPLATES / "columns.toml").read_text("utf-8"))["columns"]
)


def script_json(data: Any) -> Markup:
    """JSON safe to place inside a ``<script>`` element: ``<``, ``>`` and ``&`` (and the
    two JavaScript line separators) become ``\\u`` escapes, so no record text can close
    the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return Markup(text)


def _record_row(record: Record, current: bool, logs: Mapping[str, str]) -> dict:
    """One record as a row of the page's records table."""
    requested = record.requested or {}
    plugin, version = plugin_of(requested)
    resolved = record.resolved or {}
    row = {
        dist: requested.get(dist)
        for dist in ("python", "pytest", "pytest-asyncio", "playwright", "pytest-cov")
    }
    row.update(
        {
            key: getattr(record, key)
            for key in (
                "cell_id",
                "scenario",
                "attempt",
                "signature",
                "message",
                "duration_s",
                "started_at",
                "repro",
                "run_id",
                "control_signature",
                "probe",
            )
        }
    )
    row.update(
        outcome=record.outcome.value,
        plugin=plugin,
        plugin_version=version,
        current=int(current),
        python_full=record.python,
        log=logs.get(record.log or ""),
        tests="/".join(str(getattr(record.tests, k)) for k in COUNTS),
        resolved="\n".join(f"{k} {v}" for k, v in sorted(resolved.items())) or None,
    )
    return row


def _order(kind: str, key: str):
    if kind == "v":
        return version_key
    if key == "outcome":
        return lambda v: (SEVERITY.index(v) if v in SEVERITY else 99, v)
    if key == "scenario":
        return model.scenario_rank
    return str


def _encode(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Columnar records: each text column's distinct values, sorted so that sorting by
    the code sorts by meaning (versions as versions), and rows of codes (-1 = none)."""
    dicts: dict[str, list[Any]] = {}
    codes: dict[str, dict[Any, int]] = {}
    for key, _, kind, _ in RECORD_COLUMNS:
        if kind != "n":
            values = sorted({r[key] for r in rows if r[key] is not None}, key=_order(kind, key))
            dicts[key] = values
            codes[key] = {v: i for i, v in enumerate(values)}
    encoded = [
        [
            r[key] if kind == "n" else codes[key].get(r[key], -1)
            for key, _, kind, _ in RECORD_COLUMNS
        ]
        for r in rows
    ]
    columns = [
        {"key": key, "label": label, "kind": kind, "show": show}
        for key, label, kind, show in RECORD_COLUMNS
    ]
    return {"columns": columns, "dicts": dicts, "rows": encoded}


def payload(analysis: Analysis, logs: Mapping[str, str]) -> dict[str, Any]:
    """What the page's script reads: records (columnar), cells with their scenario
    verdicts (record positions), the states' looks, the catalogue's ids and, per cell
    explain started from, its smallest known fix."""
    current = set(analysis.scenarios["seq"].tolist()) if len(analysis.scenarios) else set()
    rows = [_record_row(r, seq in current, logs) for seq, r in enumerate(analysis.records)]
    per_cell: dict[str, list[list[Any]]] = {}
    columns = ["cell_id", "scenario", "outcome", "seq", "attempts"]
    for r in analysis.scenarios[columns].to_dict("records"):
        per_cell.setdefault(r["cell_id"], []).append(
            [r["scenario"], r["outcome"], int(r["seq"]), int(r["attempts"])]
        )
    keys = (*CELL_PINS, "verdict", "reason", "signature")
    cells = [
        {
            "id": c["cell_id"],
            **{k: c[k] for k in keys},
            "scenarios": sorted(
                per_cell.get(c["cell_id"], []), key=lambda s: model.scenario_rank(s[0])
            ),
        }
        for c in analysis.cells
    ]
    return {
        "records": _encode(rows),
        "cells": cells,
        "states": {s: list(style) for s, style in STATE_STYLE.items()},
        "catalogue": {sig: f"sig-{slug(sig)}" for sig in SIGNATURES},
        "scenarioHelp": scenario_help(),
        "fixes": fix_views(analysis),
        "ask": ask_data(analysis),
    }


def ask_data(analysis: Analysis) -> dict[str, Any]:
    """What the box at the top needs to answer in the page: the one catalogue of signatures
    and its normalisation (exported, never copied into the script), each plugin's newest
    passing combination, the grid of each Python, and the dataset's provenance."""
    best = {
        plugin: {"cell_id": rec.best["cell_id"], "text": describe(rec.best)}
        for plugin, rec in analysis.recs.items()
        if rec.best
    }
    pythons = {c["python"] for c in analysis.cells if c["python"]}
    return {
        "signatures": signature_catalogue.export(),
        "best": best,
        "grids": {p: f"grid-py{slug(p)}-section" for p in sorted(pythons)},
        "provenance": analysis.provenance,
        **analysis.asked,
    }


def scenario_help() -> dict[str, str]:
    try:  # the scenario list belongs to the runner; the page only borrows its words
        from matrix.define.scenarios import ALL
    except ImportError:
        return {}
    return {s.name: s.description for s in ALL}
