"""The page's sections, as the template draws them: the answer per plugin, remedies,
signatures, boundaries, bisect's change points, explain's fixes, changes and suites.

Each view is plain data built from the :class:`~matrix.publish.analysis.Analysis`; the
template escapes every string (Jinja2 autoescape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from matrix.define.versions import version_key
from matrix.publish.analysis import AXIS_LABELS, PLUGIN_LABELS, SIGNATURES, Analysis, describe
from matrix.publish.boundaries import transition_summary
from matrix.publish.exports import badge
from matrix.publish.grids import STATE_STYLE, cell_href, slug
from matrix.results import findings, model, sources
from matrix.results import remedies as remedy_rows

LIST_CAP = 200  # entries per list on the page; the JSON files always hold everything


def suite_views(found: list[dict[str, Any]], logs: Mapping[str, str]) -> list[dict[str, Any]]:
    """The suites with each scenario's log link pointing at the copy beside the page."""
    return [
        s
        | {
            "cells": [
                c
                | {"scenarios": [sc | {"log": logs.get(sc["log"] or "")} for sc in c["scenarios"]]}
                for c in s["cells"]
            ]
        }
        for s in found
    ]


def answer_cards(analysis: Analysis) -> list[dict[str, Any]]:
    """Per Playwright plugin: its newest passing combination, the derived fixes, and the
    measured remedies that work for its users (smallest first)."""
    out = []
    for plugin, rec in analysis.recs.items():
        best = rec.best
        out.append(
            {
                "plugin": plugin,
                "label": rec.label,
                "measured": rec.measured,
                "passing": rec.passing,
                "fixes": analysis.fixes.get(plugin, []),
                # only once variants were measured: before, the fixes above say as much
                "remedies": [
                    {"what": r.what, "key": r.key, "where": ", ".join(r.works_on)}
                    for r in remedy_rows.working(analysis.remedies, plugin)
                ]
                if analysis.variant_records
                else [],
                "best": describe(best) if best else None,
                "best_href": cell_href(best["cell_id"]) if best else None,
                "by_python": [
                    {"python": py, "text": describe(c), "href": cell_href(c["cell_id"])}
                    for py, c in rec.by_python.items()
                ],
                "badge": badge(rec),
            }
        )
    return out


REMEDY_STATE = {"works": "pass", "breaks": "bug", "hangs": "timeout", "mixed": "flaky"}


def remedies_view(analysis: Analysis, logs: Mapping[str, str]) -> dict[str, Any]:
    """The Remedies section: per remedy or shape, its pytest-asyncio families, each with
    its result and the cells behind it (repro command, log); then the variant cells that
    were not generated because the variant cannot apply."""
    rows = []
    for row in analysis.remedies:
        families = [
            {
                "span": f.span,
                "state": f.state,
                "css": REMEDY_STATE[f.state],
                "labels": list(f.labels),
                "cells": [_remedy_cell(res, logs) for res in f.results],
            }
            for f in row.families
        ]
        rows.append(
            {
                "key": row.key,
                "what": row.what,
                "attempt": row.attempt,
                "kind": row.kind,
                "families": families,
                "plugin": PLUGIN_LABELS.get(row.plugin, row.plugin),
            }
        )
    reasons: dict[str, int] = {}
    for cell in analysis.not_applicable:
        reason = cell.get("reason") or "the variant does not apply"
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"rows": rows, "not_applicable": sorted(reasons.items())}


def _remedy_cell(res: remedy_rows.Result, logs: Mapping[str, str]) -> dict[str, Any]:
    record = res.record
    return {
        "cell_id": res.cell_id,
        "pytest": res.pins.get("pytest"),
        "label": res.label,
        "scenario": record.scenario,
        "message": record.message,
        "repro": record.repro,
        "log": logs.get(record.log or ""),
        "asyncio": res.pins.get("pytest-asyncio"),
    }


RELEASE_AXES = (
    "python",
    "pytest",
    "pytest-asyncio",
    "pytest-playwright",
    "pytest-playwright-asyncio",
    "playwright",
    "pytest-cov",
    "coverage",
)


def _releases(hit: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for dist in RELEASE_AXES:
        column = f"requested.{dist}"
        if column in hit:
            values = sorted(set(hit[column].dropna()), key=version_key)
            if values:
                out.append({"dist": dist, "versions": values})
    return out


def _cell_links(cell_ids: Iterable[str], cap: int = 40) -> dict[str, Any]:
    ids = sorted(set(cell_ids))
    return {
        "links": [{"cell_id": c, "href": cell_href(c)} for c in ids[:cap]],
        "more": max(0, len(ids) - cap),
        "count": len(ids),
    }


def signatures(analysis: Analysis) -> dict[str, list[dict[str, Any]]]:
    """Loop-conflict signatures (catalogue first, then any other seen on a bug) with their
    meaning and the measured releases; then every other failure, grouped."""
    scen = analysis.scenarios
    seen = sorted(set(scen.loc[scen["outcome"] == "bug", "signature"].dropna()))
    loop_ids = list(SIGNATURES) + [s for s in seen if s not in SIGNATURES]
    moves = _bisect_moves(findings.change_points(analysis.bisect))
    loop = []
    for sig in loop_ids:
        hit = scen[scen["signature"] == sig]
        loop.append(
            {
                "id": sig,
                "anchor": f"sig-{slug(sig)}",
                "explanation": SIGNATURES.get(sig),
                "scenarios": len(hit),
                "scenario_names": sorted(set(hit["scenario"]), key=model.scenario_rank),
                "cells": _cell_links(hit["cell_id"]),
                "releases": _releases(hit),
                "workaround": _isolated_rescue(scen, hit),
                "bisect": moves.get(sig, []),
            }
        )
    other = [o | {"bisect": moves.get(o["key"], [])} for o in _other_failures(scen, set(loop_ids))]
    return {"loop": loop, "other": other}


def _bisect_moves(points: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per signature, the bisect change points where it appears (is introduced) or
    disappears, each linking to its place in the bisect section. When two searches found
    the same point with the same pins, the newer one's link is kept."""
    moves: dict[str, dict[tuple, dict[str, Any]]] = {}
    for p in points:  # oldest search first, so a newer one overwrites
        where = _pins_text(p["python"], p["pins"])
        for direction in ("appears", "disappears"):
            for sig in p[direction]:
                key = (direction, p["axis"], p["last_good"], p["first_bad"], where)
                moves.setdefault(sig, {})[key] = {
                    "direction": direction,
                    "axis": p["axis"],
                    "at": p["first_bad"],
                    "after": p["last_good"],
                    "where": where,
                    "run_id": p["run_id"],
                    "href": "#" + _point_anchor(p),
                }
    return {sig: list(found.values()) for sig, found in moves.items()}


def _isolated_rescue(scen: pd.DataFrame, hit: pd.DataFrame) -> dict[str, int] | None:
    """Of the cells this signature hits in e2e-first, how many pass when isolated."""
    cells = set(hit.loc[hit["scenario"] == "e2e-first", "cell_id"])
    if not cells:
        return None
    isolated = scen[(scen["scenario"] == "isolated") & scen["cell_id"].isin(cells)]
    return {
        "cells": len(cells),
        "measured": len(isolated),
        "passed": int((isolated["outcome"] == "pass").sum()),
    }


def _other_failures(scen: pd.DataFrame, loop_ids: set[str]) -> list[dict[str, Any]]:
    failed = scen[
        scen["outcome"].isin(["fail", "timeout", "infra", "flaky", "unresolvable"])
        & ~scen["signature"].isin(loop_ids)
    ]
    keys = failed["signature"].where(
        failed["signature"].notna(), failed["outcome"] + ": " + failed["message"].fillna("")
    )
    groups = []
    for key, hit in failed.groupby(keys, sort=True):
        groups.append(
            {
                "key": key,
                "outcomes": sorted(set(hit["outcome"])),
                "scenarios": len(hit),
                "message": hit["message"].dropna().iloc[0]
                if hit["message"].notna().any()
                else None,
                "cells": _cell_links(hit["cell_id"]),
                "releases": _releases(hit),
            }
        )
    return sorted(groups, key=lambda g: (-g["cells"]["count"], g["key"]))


def _context_text(context: Mapping[str, Any]) -> str:
    plugin = context.get("plugin")
    parts = [PLUGIN_LABELS.get(plugin, plugin)]
    parts += [f"{AXIS_LABELS.get(k, k)} {v}" for k, v in context.items() if k != "plugin"]
    return " · ".join(parts)


def boundaries(analysis: Analysis) -> list[dict[str, Any]]:
    """First bad / last good along each axis, merged across contexts, grouped by axis."""
    by_axis: dict[str, list[dict[str, Any]]] = {}
    for entry in transition_summary(analysis.transitions):
        contexts = [
            {
                "text": _context_text(c["context"]),
                "before_href": cell_href(c["before_cell"]),
                "after_href": cell_href(c["after_cell"]),
            }
            for c in entry["contexts"]
        ]
        by_axis.setdefault(entry["axis"], []).append(entry | {"contexts": contexts})
    return [
        {"axis": axis, "label": AXIS_LABELS.get(axis, axis), "entries": entries}
        for axis, entries in by_axis.items()
    ]


def _pins_text(python: str, pins: Mapping[str, str]) -> str:
    """``Python 3.13 · pytest-playwright 0.7.1 · playwright 1.56.0``: what a search held."""
    order = {dist: n for n, dist in enumerate(RELEASE_AXES)}
    parts = [f"Python {python}"] if python else []
    parts += [
        f"{d} {v}"
        for d, v in sorted(pins.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    ]
    return " · ".join(parts) or "nothing pinned"


def _sig_link(sig: str) -> dict[str, Any]:
    """A signature, with the anchor of its entry when the catalogue has one."""
    return {"id": sig, "href": f"#sig-{slug(sig)}" if sig in SIGNATURES else None}


def _point_anchor(point: Mapping[str, Any]) -> str:
    # Positions, not versions: two searches along one axis can share a change point.
    return f"bisect-{point['finding']}-{point['number']}"


def bisect_view(analysis: Analysis) -> list[dict[str, Any]]:
    """The bisect searches grouped by axis (in the order first searched): each with the
    pins it held, its first change point, what holds across its range, and every change
    point with both sides' keys."""
    here = {c["cell_id"] for c in analysis.cells}
    points = findings.change_points(analysis.bisect)
    by_axis: dict[str, list[dict[str, Any]]] = {}
    for number, finding in enumerate(analysis.bisect, 1):
        mine = [_point_view(p, here) for p in points if p["finding"] == number]
        by_axis.setdefault(finding["axis"], []).append(_search_view(number, finding, mine))
    return [
        {"axis": axis, "label": AXIS_LABELS.get(axis, axis), "searches": searches}
        for axis, searches in by_axis.items()
    ]


def _search_view(number: int, finding: Mapping[str, Any], points: list[dict[str, Any]]) -> dict:
    """One bisect search: its range, the pins it held, its first change point, its gaps."""
    keep = (
        "good",
        "bad",
        "run_id",
        "scenarios",
        "compare",
        "cells_measured",
        "grid_size",
        "gaps",
        "stepped",
        "across",
    )
    return {k: finding[k] for k in keep} | {
        "anchor": f"bisect-{number}",
        "where": _pins_text(finding["python"], finding["pins"]),
        "when": when(finding["started_at"]),
        "points": points,
        "first": points[0] if points else None,
    }


def _point_view(point: Mapping[str, Any], here: set[str]) -> dict[str, Any]:
    """One change point: per scenario both sides' outcome and signatures, what appears
    and disappears, links to both cells when they are on the page, and the repro."""

    def side(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
        look = STATE_STYLE.get(state["outcome"]) if state else None  # glyph: not colour alone
        return state and {
            "outcome": state["outcome"],
            "glyph": look[1] if look else "",
            "signatures": [_sig_link(s) for s in state["signatures"]],
        }

    rows = [
        {
            "scenario": s,
            "differs": s in point["differ"],
            "before": side(point["before"].get(s)),
            "after": side(point["after"].get(s)),
        }
        for s in point["scenarios"]
    ]
    cells = {
        f"{end}_href": cell_href(point[f"{end}_cell"]) if point[f"{end}_cell"] in here else None
        for end in ("last_good", "first_bad")
    }
    keep = ("last_good", "first_bad", "last_good_cell", "first_bad_cell", "unusable", "repro")
    return (
        {k: point[k] for k in keep}
        | cells
        | {
            "anchor": _point_anchor(point),
            "rows": rows,
            "first": point["number"] == 1,
            "appears": [_sig_link(s) for s in point["appears"]],
            "disappears": [_sig_link(s) for s in point["disappears"]],
        }
    )


def fix_views(analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Per cell on the page that explain started from: its smallest known fix (None when
    the search found none), for the cell details the script draws."""
    here = {c["cell_id"] for c in analysis.cells}
    return {
        cell: {
            "fix": found["fix"],
            "run_id": found["run_id"],
            "when": when(found["started_at"]),
            "more": max(0, len(found["candidates"]) - 1),
        }
        for cell, found in findings.smallest_fixes(analysis.explain).items()
        if cell in here
    }


def changes_view(changes: Mapping[str, Any], cells: Iterable[Mapping[str, Any]]) -> dict:
    """The changes section: status, the previous run's date, and capped lists (a cell
    that is gone has no details to link to)."""
    view = {
        "status": changes["status"],
        "reason": changes.get("reason"),
        "date": when(changes.get("date")),
        "groups": [],
    }
    here = {c["cell_id"] for c in cells}
    if changes["status"] == "compared":
        for kind in ("regressed", "fixed", "changed", "new", "gone"):
            items = changes[kind]
            entries = [
                i | {"href": cell_href(i["cell_id"]) if i["cell_id"] in here else None}
                for i in items[:LIST_CAP]
            ]
            view["groups"].append(
                {
                    "kind": kind,
                    "count": len(items),
                    "entries": entries,
                    "more": max(0, len(items) - LIST_CAP),
                }
            )
    return view


def when(stamp: str | None) -> str | None:
    """An ISO time as "2026-11-20 04:17 UTC" (the records are in UTC)."""
    if not stamp:
        return None
    text = str(stamp).replace("T", " ")
    return text[:16] + " UTC" if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", text) else text


def duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def provenance_view(p: Mapping[str, Any] | None) -> str | None:
    """The dataset's provenance in one sentence, or None for records measured here."""
    return sources.provenance_text(dict(p)) if p else None
