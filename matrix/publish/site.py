"""The site: the published compatibility report, a static folder that opens from disk.

``build(results_dir, site_dir)`` reads a results folder (``results.jsonl``, optional
``plan.json``, ``logs/``, and the findings of ``bisect`` and ``explain`` in
``bisect.jsonl`` and ``explain.jsonl``) and writes::

    index.html          the report (Jinja2 template, plotly heatmaps, no network)
    plotly.min.js       plotly.js from the installed plotly package, once
    app.js, style.css   the page's own script and style (matrix/templates/)
    results.json        every record, results.csv the same flattened
    summary.json        cell verdicts, scenario verdicts, recommendations, boundaries, changes,
                        bisect's first bad releases and explain's smallest fix per cell
    badges/<plugin>.json  shields.io endpoint badges for each plugin's recommendation
    logs/...            the logs the records point at (hard links where possible), so
                        the links work when the folder is published alone

The site is written into a folder beside ``site_dir`` and moved into place at the end, so
a build that fails (a full disk) leaves the previous page whole and no half-written one;
top-level entries the build does not make (a ``CNAME``) are carried over.

Every string that comes from a record is escaped: Jinja2 autoescapes the page, data for
the script is JSON with ``<``, ``>`` and ``&`` written as ``\\u003c`` and the like, hover
text is HTML-escaped before plotly sees it, and the script inserts text with
``textContent`` only. The same inputs give the same bytes: nothing depends on the clock,
ordering is explicit everywhere, and plot div ids are derived from the Python version.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from matrix import masking
from matrix.define.cell import BASELINE
from matrix.errors import EarlierResultsError, MatrixError, OutputError
from matrix.publish import ask, exports, grids, payload, staging, views
from matrix.publish.analysis import (
    Analysis,
    cell_dicts,
    cell_verdicts,
    evidence,
    fixes,
    frame,
    read_plan,
    read_records,
    recommendations,
    record_order,
    scenario_verdicts,
)
from matrix.publish.boundaries import transitions
from matrix.publish.changes import diff, read_previous
from matrix.results import answers, findings, model, sources, store
from matrix.results import remedies as remedy_rows
from matrix.results.record import Record

__all__ = ["Analysis", "analyse", "build", "render"]


def build(
    results_dir: Path,
    site_dir: Path,
    previous: Path | None = None,
    secrets: frozenset[str] = frozenset(),
) -> Path:
    """Write the report for ``results_dir`` into ``site_dir`` and return its ``index.html``.

    Args:
        results_dir: a results folder (or its ``results.jsonl``), with optional
            ``plan.json``, the ``logs/`` the records point at, and ``bisect.jsonl`` and
            ``explain.jsonl`` (a malformed line is skipped with a warning on the page).
        site_dir: the folder to write; its ``badges/`` and ``logs/`` follow the records
            (files for plugins or records that are gone are removed).
        previous: a previous results folder, site folder or one of their
            ``results.jsonl``/``results.json``/``summary.json`` files. When it cannot be
            read, the page says it could not compare; the build itself goes on.
        secrets: values masked in every file of the site (records written before they
            were masked, or under another environment, must not publish them).
    """
    results_file, root = _results_file(Path(results_dir))
    analysis = analyse(results_file, store.own(root, "plan.json"), previous)
    site_dir = Path(site_dir).absolute()
    # Written beside the target and moved into place: a failure (a full disk) leaves the
    # previous page whole and no half-written one.
    stage = site_dir.parent / f".{site_dir.name}.building-{os.getpid()}"
    try:
        staging.clear_leftovers(site_dir)
        shutil.rmtree(stage, ignore_errors=True)  # a build of this process that was cut off
        stage.mkdir(parents=True)
        inside = root.resolve().is_relative_to(site_dir.resolve())  # never moved away
        logs = exports.copy_logs(
            analysis.records + analysis.variant_records,
            root,
            stage,
            root.resolve() == site_dir.resolve(),
        )
        exports.write_exports(stage, analysis)
        exports.write_badges(stage, analysis.recs)
        exports.write_assets(stage)
        (stage / "index.html").write_text(render(analysis, logs), encoding="utf-8")
        masking.mask_tree(
            stage, secrets, keep=(*exports.ASSETS, "plotly.min.js")
        )  # assets hold no record
        staging.swap(stage, site_dir, whole=not inside, owned=exports.OWNED)
    except OSError as exc:
        if exc.errno not in OutputError.ERRNOS:
            raise
        raise OutputError.from_os_error(
            exc, f"writing the site {site_dir}", kept="the previous page is left as it was"
        ) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return site_dir / "index.html"


def _results_file(path: Path) -> tuple[Path, Path]:
    results = path / "results.jsonl" if path.is_dir() else path
    if path.is_dir() and results.is_symlink():
        raise MatrixError(
            f"{results} is a link; links in a results folder are never followed: "
            "replace it with the file itself"
        )
    if not results.is_file():
        raise MatrixError(
            f"no {results.name} in {path.name or path}: run the matrix first "
            "(nox -s matrix), or give the folder that holds results.jsonl"
        )
    return results, results.parent


def analyse(results: Path, plan_path: Path | None, previous: Path | None = None) -> Analysis:
    """Read records, plan and the findings beside the records, and compute verdicts,
    recommendations, boundaries, changes."""
    records, warnings = read_records(results)
    searches, search_warnings = _read_searches(results.parent)
    # Built from the records alone, not their file order: shards merged and one run agree.
    records.sort(key=record_order)
    varied = [r for r in records if r.variant != BASELINE]
    records = [r for r in records if r.variant == BASELINE]
    # A user's suite is shown on its own, with its own answer: never pooled with the probes.
    probes = [r for r in records if not answers.suite_of(r)]
    records = probes + [r for r in records if answers.suite_of(r)]
    plan, plan_warnings = read_plan(plan_path) if plan_path else (None, [])
    if plan:  # a suite's planned cells are not probe cells either
        plan = plan | {"cells": [c for c in plan.get("cells", []) if not c.get("suite")]}
    plan, not_applicable = _split_plan(plan)
    typed = records + varied
    df = frame(probes)
    scenarios = scenario_verdicts(df)
    cells_df = cell_verdicts(scenarios, plan)
    recs = recommendations(cells_df)
    return Analysis(
        records=records,
        df=df,
        scenarios=scenarios,
        cells=cell_dicts(cells_df),
        recs=recs,
        fixes=fixes(scenarios, recs),
        transitions=transitions(cells_df),
        changes=_changes(scenarios, previous),
        evidence=evidence(df, scenarios, cells_df, plan),
        warnings=warnings + plan_warnings + search_warnings,
        suites=suites(records),
        **searches,
        provenance=_provenance(results.parent),
        variant_records=varied,
        not_applicable=not_applicable,
        remedies=remedy_rows.rows(typed),
        asked={
            "versions": ask.versions_data(typed),
            "errors": ask.errors_data(typed, results.parent),
        },
    )


def _split_plan(plan: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The plan's baseline cells, and its variant cells declared unable to apply."""
    if plan is None:
        return None, []
    cells = plan["cells"]
    others = [c for c in cells if c.get("variant", BASELINE) != BASELINE]
    lost = [c for c in others if c.get("status") == "incompatible"]
    return plan | {"cells": [c for c in cells if c not in others]}, lost


def _provenance(root: Path) -> dict[str, Any] | None:
    """``provenance.json`` beside the records: where a shipped dataset was measured."""
    path = store.own(root, sources.PROVENANCE)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def suites(records: list[Record]) -> list[dict[str, Any]]:
    """Each user's suite: its cells with their scenario verdicts, and its own answer."""
    from matrix.search import suite_answer

    typed = [r for r in records if answers.suite_of(r)]
    out = []
    for key in sorted({answers.suite_of(r) for r in records if answers.suite_of(r)}):
        mine = suite_answer.cells(key, typed)
        rows = [
            {
                "cell_id": cid,
                "scenarios": [
                    {
                        "name": name,
                        "outcome": v.outcome,
                        "signature": v.signature,
                        "glyph": grids.STATE_STYLE[v.outcome][1],
                        "log": v.latest.log,
                    }
                    for name, v in sorted(
                        cell.scenarios.items(), key=lambda kv: model.scenario_rank(kv[0])
                    )
                ],
            }
            for cid, cell in sorted(mine.items())
        ]
        declared = {}  # the page knows the records, not the suite's files
        out.append(
            {"key": key, "cells": rows, "answer": suite_answer.for_suite(key, typed, declared)}
        )
    return out


def _read_searches(root: Path) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The bisect and explain findings of a results folder, and the lines skipped."""
    found, warnings = {}, []
    for kind, name in findings.FILES.items():
        path = store.own(root, name)  # never read through a link
        found[kind], skipped = findings.read_findings(path, kind) if path else ([], [])
        warnings += skipped
    return found, warnings


def _changes(scenarios: pd.DataFrame, previous: Path | None) -> dict[str, Any]:
    if previous is None:
        return {"status": "none"}
    try:
        before = read_previous(Path(previous))
        found = diff(scenarios, before)
    except Exception as exc:  # noqa: BLE001 - a previous run is context, never a blocker
        reason = (
            str(exc)
            if isinstance(exc, EarlierResultsError)
            else (f"{type(exc).__name__} while reading it")
        )
        return {"status": "error", "reason": reason}
    return {"status": "compared", "date": before.date, "source": before.source, **found}


# ---------------------------------------------------------------- files beside the page


# ---------------------------------------------------------------- the grids


# ---------------------------------------------------------------- page sections


# ---------------------------------------------------------------- data for the script


# ---------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(exports.TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(analysis: Analysis, logs: Mapping[str, str] | None = None) -> str:
    """The page's HTML."""
    ev = analysis.evidence
    evidence = ev | {
        "started": views.when(ev["started"]),
        "finished": views.when(ev["finished"]),
        "snapshot_time": views.when(ev["snapshot_time"]),
        "wall": views.duration(ev["wall_s"]),
        "test_time": views.duration(ev["test_time_s"]),
    }
    context = {
        "provenance": views.provenance_view(analysis.provenance),
        "answer": views.answer_cards(analysis),
        "remedies": views.remedies_view(analysis, logs or {}),
        "legend": [
            {
                "state": s,
                "colour": c,
                "glyph": g,
                "label": label,
                "count": ev["cell_verdicts"].get(s, 0),
            }
            for s, (c, g, label) in grids.STATE_STYLE.items()
        ],
        "grids": grids.grids(analysis.cells),
        "signatures": views.signatures(analysis),
        "boundaries": views.boundaries(analysis),
        "bisect": views.bisect_view(analysis),
        "searches": {"bisect": len(analysis.bisect), "explain": len(analysis.explain)},
        "changes": views.changes_view(analysis.changes, analysis.cells),
        "evidence": evidence,
        "warnings": analysis.warnings,
        "suites": views.suite_views(analysis.suites, logs or {}),
        "scenario_help": payload.scenario_help(),
        "data": payload.script_json(payload.payload(analysis, logs or {})),
    }
    return _environment().get_template("index.html.j2").render(**context)
