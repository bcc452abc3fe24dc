"""The files beside the page: results.json, results.csv, summary.json, badges, assets, logs.

``summary.json`` is the machine-readable answer: cell and scenario verdicts,
recommendations, boundaries, changes, bisect's first bad releases and explain's smallest
fix per cell. The records are turned into JSON here, at the edge, and nowhere before.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import plotly.offline

from matrix.publish.analysis import (
    NATIVE,
    SEVERITY,
    Analysis,
    Recommendation,
    clean,
    record_json,
    record_order,
)
from matrix.publish.staging import link_or_copy
from matrix.results import findings, store
from matrix.results import remedies as remedy_rows
from matrix.results.record import Record

TEMPLATES = Path(__file__).with_name("templates")


ASSETS = ("app.js", "style.css", "favicon.svg")


#: What a build writes at the top of the site; anything else there (a CNAME, the run's
#: releases.json) is carried over to the new site.
OWNED = frozenset(
    {
        "index.html",
        "plotly.min.js",
        *ASSETS,
        "results.json",
        "results.csv",
        "summary.json",
        "badges",
        "logs",
    }
)


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_exports(site_dir: Path, analysis: Analysis) -> None:
    """results.json (every record), results.csv (flattened) and summary.json."""
    every = sorted(analysis.records + analysis.variant_records, key=record_order)
    lines = (json.dumps(record_json(r), sort_keys=True, ensure_ascii=False) for r in every)
    body = ",\n".join(lines)
    (site_dir / "results.json").write_text(f"[\n{body}\n]\n" if body else "[]\n", encoding="utf-8")
    analysis.df.drop(columns=["seq"]).to_csv(
        site_dir / "results.csv", index=False, lineterminator="\n"
    )
    (site_dir / "summary.json").write_text(_dump(summary(analysis)), encoding="utf-8")


def summary(analysis: Analysis) -> dict[str, Any]:
    """The machine-readable answer: what summary.json holds."""
    scenario_rows = [
        {
            "cell_id": r["cell_id"],
            "scenario": r["scenario"],
            "outcome": r["outcome"],
            "signature": clean(r["signature"]),
            "attempts": int(r["attempts"]),
        }
        for r in analysis.scenarios[
            ["cell_id", "scenario", "outcome", "signature", "attempts"]
        ].to_dict("records")
    ]
    ev = analysis.evidence
    return {
        "schema": 1,
        "run": {
            "run_ids": ev["run_ids"],
            "profile": ev["profile"],
            "started": ev["started"],
            "finished": ev["finished"],
            "snapshot_time": ev["snapshot_time"],
        },
        "evidence": ev,
        "verdict_order": list(SEVERITY),
        "recommendations": {plugin: rec.to_json() for plugin, rec in analysis.recs.items()},
        "fixes": analysis.fixes,
        "cells": analysis.cells,
        "scenarios": scenario_rows,
        "transitions": analysis.transitions,
        "changes": analysis.changes,
        "bisect": bisect_summary(analysis.bisect),
        "explain": explain_summary(analysis.explain),
        "remedies": remedies_summary(analysis.remedies),
        "warnings": analysis.warnings,
        "suites": [{"key": s["key"], "answer": s["answer"]} for s in analysis.suites],
    }


def remedies_summary(rows: Iterable[remedy_rows.Row]) -> list[dict[str, Any]]:
    """Per remedy or shape: its families, each with its result and its cells."""
    return [
        {
            "key": r.key,
            "what": r.what,
            "plugin": r.plugin,
            "kind": r.kind,
            "attempt": r.attempt,
            "families": [
                {
                    "first": f.first,
                    "last": f.last,
                    "state": f.state,
                    "results": list(f.labels),
                    "cells": [res.cell_id for res in f.results],
                }
                for f in r.families
            ],
        }
        for r in rows
    ]


def bisect_summary(found: list[dict[str, Any]]) -> dict[str, Any]:
    """What bisect found: per axis, each search's first bad release (and last good), and
    every change point with the signatures that appear or disappear there."""
    first_bad: dict[str, list[dict[str, Any]]] = {}
    for finding in found:
        if finding["changes"]:
            change = finding["changes"][0]
            first_bad.setdefault(finding["axis"], []).append(
                {k: finding[k] for k in ("python", "pins", "run_id", "started_at")}
                | {"last_good": change["last_good"], "first_bad": change["first_bad"]}
            )
    keys = (
        "axis",
        "python",
        "pins",
        "last_good",
        "first_bad",
        "last_good_cell",
        "first_bad_cell",
        "differ",
        "appears",
        "disappears",
        "run_id",
    )
    points = [{k: p[k] for k in keys} for p in findings.change_points(found)]
    return {"searches": len(found), "first_bad": first_bad, "change_points": points}


def explain_summary(found_here: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cell explain started from: the smallest known fix (None when it found none),
    the other ranked candidates in brief, and the search's run."""
    out = {}
    for cell_id, found in findings.smallest_fixes(found_here).items():
        brief = [
            {k: c[k] for k in ("rank", "kind", "summary", "how", "size", "cell_id")}
            for c in found["candidates"]
        ]
        out[cell_id] = {
            "run_id": found["run_id"],
            "started_at": found["started_at"],
            "smallest_fix": brief[0] if brief else None,
            "candidates": brief,
        }
    return out


def badge(rec: Recommendation) -> dict[str, Any]:
    """A shields.io endpoint badge for one plugin's recommended combination."""
    best = rec.best
    if best:
        parts = [best["plugin_version"]]
        parts += [
            f"{dist} {best[dist]}"
            for dist in ("pytest-asyncio", "pytest", "playwright")
            if best.get(dist)
        ]
        parts.append(f"py{best['python']}" if best.get("python") else None)
        message, color = " | ".join(p for p in parts if p), "brightgreen"
    elif rec.measured:
        message, color = "no passing combination", "red"
    else:
        message, color = "not measured", "lightgrey"
    label = rec.plugin if rec.plugin != NATIVE else "playwright async api"
    return {"schemaVersion": 1, "label": label, "message": message, "color": color}


def write_badges(site_dir: Path, recs: Mapping[str, Recommendation]) -> None:
    folder = site_dir / "badges"
    folder.mkdir()
    for plugin, rec in recs.items():
        (folder / f"{plugin}.json").write_text(_dump(badge(rec)), encoding="utf-8")


def write_assets(site_dir: Path) -> None:
    for name in ASSETS:
        shutil.copyfile(TEMPLATES / name, site_dir / name)
    (site_dir / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")


def copy_logs(records: Iterable[Record], root: Path, stage: Path, in_place: bool) -> dict[str, str]:
    """Put the logs the records name into ``stage/logs``; returns record path -> site
    path for those that exist. A path that leaves the results folder is never followed:
    a record must not be able to publish an arbitrary file. When the site is the results
    folder (``in_place``) the logs are already there and nothing is copied."""
    root = root.resolve()
    placed: dict[str, str] = {}
    for name in sorted({r.log for r in records if isinstance(r.log, str)}):
        source = (root / name).resolve()
        if not source.is_relative_to(root / "logs" if in_place else root) or not source.is_file():
            continue
        # A link in the folder, even to a file inside it, is never published (its target
        # may change after the check): only files that are really in the folder.
        if store.own(root, os.path.normpath(name)) is None:
            continue
        inside = source.relative_to(root).as_posix().removeprefix("logs/")
        if not in_place:
            dest = stage / "logs" / inside
            dest.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(source, dest)
        placed[name] = f"logs/{inside}"
    return placed
