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

import dataclasses
import html
import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
from markupsafe import Markup

from matrix import masking, processes
from matrix.define.cell import BASELINE, plugin_of
from matrix.define.versions import version_key
from matrix.publish import ask
from matrix.publish.analysis import (
    ASYNC, AXIS_LABELS, COUNTS, INCOMPATIBLE, NATIVE, NONE, NOT_RUN, PLUGIN_LABELS,
    PLUGIN_ORDER, SEVERITY, SIGNATURES, SYNC, _clean, cell_dicts, cell_verdicts,
    describe, diff, evidence, fixes, frame, read_plan, read_previous, read_records,
    recommendations, record_json, scenario_verdicts, transition_summary, transitions)
from matrix.results import answers, findings, model, sources, store
from matrix.results import signatures as signature_catalogue
from matrix.errors import EarlierResultsError, MatrixError, OutputError
from matrix.results import remedies as remedy_rows
from matrix.results.record import Record

__all__ = ["STATE_STYLE", "analyse", "badge", "bisect_summary", "bisect_view", "build",
           "explain_summary", "fix_views", "grid_figure", "render", "script_json", "summary"]

#: How each cell state looks: colour, a glyph (so colour is never the only cue), a label.
STATE_STYLE: dict[str, tuple[str, str, str]] = {
    "pass": ("#2f9e55", "✓", "pass: every scenario passed"),
    "bug": ("#d62839", "✗", "bug: a loop conflict"),
    "fail": ("#f08c00", "!", "fail: another failure"),
    "hollow": ("#0b7285", "○", "hollow: passed without running its browser code"),
    "timeout": ("#8e44ad", "T", "timeout"),
    "flaky": ("#e6c229", "~", "flaky: attempts disagree"),
    "infra": ("#6c7a89", "?", "infra: the harness could not run it"),
    "unresolvable": ("#aab2bc", "∅", "unresolvable: the resolver refused the pins"),
    "no-interpreter": ("#cfd4da", "–", "no interpreter on the machine"),
    INCOMPATIBLE: ("#e6e9ed", "⊘", "declared incompatible (metadata; not run)"),
    NOT_RUN: ("#f3f4f6", "…", "planned, not run yet"),
}
STATE_CODE = {state: code for code, state in enumerate(STATE_STYLE)}
SHORT_PLUGIN = {SYNC: "sync", ASYNC: "async", NATIVE: "no plugin",
                NONE: "control"}
TEMPLATES = Path(__file__).with_name("templates")
ASSETS = ("app.js", "style.css", "favicon.svg")
#: The records table's columns: key, heading, kind and whether it is shown (see the file).
RECORD_COLUMNS: tuple[tuple[str, str, str, bool], ...] = tuple(
    tuple(c) for c in tomllib.loads((TEMPLATES / "columns.toml").read_text("utf-8"))["columns"])
LIST_CAP = 200  # entries per list on the page; the JSON files always hold everything


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Everything the page and the JSON files are made from."""

    records: list[Record]  # baseline records, probes first, then users' suites
    df: pd.DataFrame
    scenarios: pd.DataFrame
    cells: list[dict[str, Any]]
    recs: dict[str, dict[str, Any]]
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


def build(results_dir: Path, site_dir: Path, previous: Path | None = None,
          secrets: frozenset[str] = frozenset()) -> Path:
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
        _clear_leftovers(site_dir)
        shutil.rmtree(stage, ignore_errors=True)  # a build of this process that was cut off
        stage.mkdir(parents=True)
        inside = root.resolve().is_relative_to(site_dir.resolve())  # never moved away
        logs = _copy_logs(analysis.records + analysis.variant_records, root, stage,
                          root.resolve() == site_dir.resolve())
        _write_exports(stage, analysis)
        _write_badges(stage, analysis.recs)
        _write_assets(stage)
        (stage / "index.html").write_text(render(analysis, logs), encoding="utf-8")
        masking.mask_tree(stage, secrets, keep=(*ASSETS, "plotly.min.js"))  # assets hold no record
        _publish(stage, site_dir, whole=not inside)
    except OSError as exc:
        if exc.errno not in OutputError.ERRNOS:
            raise
        raise OutputError.from_os_error(exc, f"writing the site {site_dir}",
                                        kept="the previous page is left as it was") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return site_dir / "index.html"


def _clear_leftovers(site_dir: Path) -> None:
    """Remove the stages and old sites of builds that were killed (their process is gone)."""
    if not site_dir.parent.is_dir():
        return
    for path in site_dir.parent.iterdir():
        name, _, pid = path.name.rpartition("-")
        if (name in (f".{site_dir.name}.building", f".{site_dir.name}.old") and pid.isdigit()
                and not processes.alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


#: What a build writes at the top of the site; anything else there (a CNAME, the run's
#: releases.json) is carried over to the new site.
OWNED = frozenset({"index.html", "plotly.min.js", *ASSETS, "results.json", "results.csv",
                   "summary.json", "badges", "logs"})


def _publish(stage: Path, site_dir: Path, whole: bool) -> None:
    """Move the staged site into ``site_dir``, index.html last.

    A site of its own is swapped ``whole`` (two renames); a site that holds the results
    folder (or is it) gets each staged entry replaced in turn, the results left alone.
    """
    if not whole:
        for entry in sorted(stage.iterdir(), key=lambda p: p.name == "index.html"):
            _replace(entry, site_dir / entry.name)
        return
    if not site_dir.exists():
        os.rename(stage, site_dir)
        return
    for entry in site_dir.iterdir():
        if entry.name not in OWNED:
            _link_tree(entry, stage / entry.name)
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    os.rename(site_dir, old)
    try:
        os.rename(stage, site_dir)
    except OSError:
        os.rename(old, site_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _replace(source: Path, dest: Path) -> None:
    """``dest`` becomes ``source``: a file atomically, a folder by a swap."""
    if source.is_dir() and dest.is_dir():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
        os.rename(source, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, dest)


def _link_tree(source: Path, dest: Path) -> None:
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, dest)


def _results_file(path: Path) -> tuple[Path, Path]:
    results = path / "results.jsonl" if path.is_dir() else path
    if path.is_dir() and results.is_symlink():
        raise MatrixError(f"{results} is a link; links in a results folder are never followed: "
                          "replace it with the file itself")
    if not results.is_file():
        raise MatrixError(f"no {results.name} in {path.name or path}: run the matrix first "
                          "(nox -s matrix), or give the folder that holds results.jsonl")
    return results, results.parent


def analyse(results: Path, plan_path: Path | None, previous: Path | None = None) -> Analysis:
    """Read records, plan and the findings beside the records, and compute verdicts,
    recommendations, boundaries, changes."""
    records, warnings = read_records(results)
    searches, search_warnings = _read_searches(results.parent)
    # Built from the records alone, not their file order: shards merged and one run agree.
    records.sort(key=_record_order)
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
        records=records, df=df, scenarios=scenarios, cells=cell_dicts(cells_df),
        recs=recs, fixes=fixes(scenarios, recs),
        transitions=transitions(cells_df),
        changes=_changes(scenarios, previous),
        evidence=evidence(df, scenarios, cells_df, plan),
        warnings=warnings + plan_warnings + search_warnings, suites=suites(records), **searches,
        provenance=_provenance(results.parent), variant_records=varied,
        not_applicable=not_applicable,
        remedies=remedy_rows.rows(typed),
        asked={"versions": ask.versions_data(typed), "errors": ask.errors_data(typed, results.parent)},
    )


def _record_order(record: Record) -> tuple:
    """Records by cell, scenario, attempt and start: shards merged and one run agree."""
    return (record.cell_id, record.scenario, record.attempt, record.started_at)


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


def _suite_views(found: list[dict[str, Any]], logs: Mapping[str, str]) -> list[dict[str, Any]]:
    """The suites with each scenario's log link pointing at the copy beside the page."""
    return [s | {"cells": [c | {"scenarios": [sc | {"log": logs.get(sc["log"] or "")}
                                               for sc in c["scenarios"]]}
                           for c in s["cells"]]} for s in found]


def suites(records: list[Record]) -> list[dict[str, Any]]:
    """Each user's suite: its cells with their scenario verdicts, and its own answer."""
    from matrix.search import answer as suite_answer

    typed = [r for r in records if answers.suite_of(r)]
    out = []
    for key in sorted({answers.suite_of(r) for r in records if answers.suite_of(r)}):
        mine = suite_answer.cells(key, typed)
        rows = [{"cell_id": cid, "scenarios": [
                    {"name": name, "outcome": v.outcome, "signature": v.signature,
                     "glyph": STATE_STYLE[v.outcome][1], "log": v.latest.log}
                    for name, v in sorted(cell.scenarios.items(),
                                          key=lambda kv: model.scenario_rank(kv[0]))]}
                for cid, cell in sorted(mine.items())]
        declared = {}  # the page knows the records, not the suite's files
        out.append({"key": key, "cells": rows,
                    "answer": suite_answer.for_suite(key, typed, declared)})
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
        reason = str(exc) if isinstance(exc, EarlierResultsError) else (
            f"{type(exc).__name__} while reading it")
        return {"status": "error", "reason": reason}
    return {"status": "compared", "date": before.date, "source": before.source, **found}


# ---------------------------------------------------------------- files beside the page


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _write_exports(site_dir: Path, analysis: Analysis) -> None:
    """results.json (every record), results.csv (flattened) and summary.json."""
    every = sorted(analysis.records + analysis.variant_records, key=_record_order)
    lines = (json.dumps(record_json(r), sort_keys=True, ensure_ascii=False) for r in every)
    body = ",\n".join(lines)
    (site_dir / "results.json").write_text(f"[\n{body}\n]\n" if body else "[]\n",
                                           encoding="utf-8")
    analysis.df.drop(columns=["seq"]).to_csv(site_dir / "results.csv", index=False,
                                             lineterminator="\n")
    (site_dir / "summary.json").write_text(_dump(summary(analysis)), encoding="utf-8")


def summary(analysis: Analysis) -> dict[str, Any]:
    """The machine-readable answer: what summary.json holds."""
    scenario_rows = [
        {"cell_id": r["cell_id"], "scenario": r["scenario"], "outcome": r["outcome"],
         "signature": _clean(r["signature"]), "attempts": int(r["attempts"])}
        for r in analysis.scenarios[["cell_id", "scenario", "outcome", "signature",
                                     "attempts"]].to_dict("records")
    ]
    ev = analysis.evidence
    return {
        "schema": 1,
        "run": {"run_ids": ev["run_ids"], "profile": ev["profile"], "started": ev["started"],
                "finished": ev["finished"], "snapshot_time": ev["snapshot_time"]},
        "evidence": ev,
        "verdict_order": list(SEVERITY),
        "recommendations": analysis.recs,
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
    return [{"key": r.key, "what": r.what, "plugin": r.plugin, "kind": r.kind,
             "attempt": r.attempt, "families": [
                 {"first": f.first, "last": f.last, "state": f.state, "results": list(f.labels),
                  "cells": [res.cell_id for res in f.results]} for f in r.families]}
            for r in rows]


def bisect_summary(found: list[dict[str, Any]]) -> dict[str, Any]:
    """What bisect found: per axis, each search's first bad release (and last good), and
    every change point with the signatures that appear or disappear there."""
    first_bad: dict[str, list[dict[str, Any]]] = {}
    for finding in found:
        if finding["changes"]:
            change = finding["changes"][0]
            first_bad.setdefault(finding["axis"], []).append(
                {k: finding[k] for k in ("python", "pins", "run_id", "started_at")}
                | {"last_good": change["last_good"], "first_bad": change["first_bad"]})
    keys = ("axis", "python", "pins", "last_good", "first_bad", "last_good_cell",
            "first_bad_cell", "differ", "appears", "disappears", "run_id")
    points = [{k: p[k] for k in keys} for p in findings.change_points(found)]
    return {"searches": len(found), "first_bad": first_bad, "change_points": points}


def explain_summary(found_here: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cell explain started from: the smallest known fix (None when it found none),
    the other ranked candidates in brief, and the search's run."""
    out = {}
    for cell_id, found in findings.smallest_fixes(found_here).items():
        brief = [{k: c[k] for k in ("rank", "kind", "summary", "how", "size", "cell_id")}
                 for c in found["candidates"]]
        out[cell_id] = {"run_id": found["run_id"], "started_at": found["started_at"],
                        "smallest_fix": brief[0] if brief else None, "candidates": brief}
    return out


def badge(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A shields.io endpoint badge for one plugin's recommended combination."""
    best = rec["best"]
    if best:
        parts = [best["plugin_version"]]
        parts += [f"{dist} {best[dist]}" for dist in ("pytest-asyncio", "pytest", "playwright")
                  if best.get(dist)]
        parts.append(f"py{best['python']}" if best.get("python") else None)
        message, color = " | ".join(p for p in parts if p), "brightgreen"
    elif rec["measured"]:
        message, color = "no passing combination", "red"
    else:
        message, color = "not measured", "lightgrey"
    label = rec["plugin"] if rec["plugin"] != NATIVE else "playwright async api"
    return {"schemaVersion": 1, "label": label, "message": message, "color": color}


def _write_badges(site_dir: Path, recs: Mapping[str, Mapping[str, Any]]) -> None:
    folder = site_dir / "badges"
    folder.mkdir()
    for plugin, rec in recs.items():
        (folder / f"{plugin}.json").write_text(_dump(badge(rec)), encoding="utf-8")


def _write_assets(site_dir: Path) -> None:
    for name in ASSETS:
        shutil.copyfile(TEMPLATES / name, site_dir / name)
    (site_dir / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")


def _copy_logs(records: Iterable[Record], root: Path, stage: Path,
               in_place: bool) -> dict[str, str]:
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
            _link_or_copy(source, dest)
        placed[name] = f"logs/{inside}"
    return placed


def _link_or_copy(source: Path | str, dest: Path | str) -> None:
    """A hard link when the site is on the same file system (ten times faster than a copy
    for thousands of logs; Pages' tar stores the content), else a copy."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


# ---------------------------------------------------------------- the grids


def _text(value: Any) -> str:
    """Record text made safe for plotly, which reads a few HTML-like tags in labels."""
    return html.escape(str(value), quote=False)


def cell_href(cell_id: str) -> str:
    """The page-relative link that opens one cell's details."""
    from urllib.parse import quote

    return "#cell=" + quote(cell_id, safe="")


def _row_key(cell: Mapping[str, Any]) -> tuple:
    return (version_key(cell["pytest-asyncio"]), version_key(cell["pytest"]))


def _col_key(cell: Mapping[str, Any]) -> tuple:
    plugin = cell["plugin"]
    rank = PLUGIN_ORDER.index(plugin) if plugin in PLUGIN_ORDER else len(PLUGIN_ORDER)
    return (rank, plugin, *(version_key(cell[k]) for k in
                            ("plugin_version", "playwright", "pytest-cov", "coverage")))


def _row_label(cell: Mapping[str, Any]) -> str:
    return f"pytest-asyncio {cell['pytest-asyncio'] or '–'} · pytest {cell['pytest'] or '–'}"


def _col_lines(cell: Mapping[str, Any]) -> list[str]:
    head = SHORT_PLUGIN.get(cell["plugin"], cell["plugin"])
    lines = [f"{head} {cell['plugin_version']}" if cell["plugin_version"] else head]
    lines += [f"{short} {cell[dist]}" for dist, short in
              (("playwright", "pw"), ("pytest-cov", "cov"), ("coverage", "coverage"))
              if cell.get(dist)]
    return lines


def _layout(cells: list[dict[str, Any]]) -> tuple[list, list, dict[tuple[int, int], dict]]:
    """Rows (pytest-asyncio x pytest), columns (plugin x versions) and the cell at each
    place. Two cells at one place (pins outside the grid's axes) show the worse one."""
    rows = sorted({_row_key(c): c for c in cells}.items())
    cols = sorted({_col_key(c): c for c in cells}.items())
    row_at = {key: i for i, (key, _) in enumerate(rows)}
    col_at = {key: j for j, (key, _) in enumerate(cols)}
    place: dict[tuple[int, int], dict[str, Any]] = {}
    for cell in cells:
        spot = (row_at[_row_key(cell)], col_at[_col_key(cell)])
        held = place.get(spot)
        if held is None or _worse(cell, held):
            place[spot] = cell
    return [c for _, c in rows], [c for _, c in cols], place


def _worse(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    order = list(SEVERITY) + [INCOMPATIBLE, NOT_RUN]
    return (order.index(a["verdict"]), a["cell_id"]) < (order.index(b["verdict"]), b["cell_id"])


def _hover(cell: Mapping[str, Any]) -> str:
    verdict = cell["verdict"]
    lines = [f"<b>{_text(cell['cell_id'])}</b>",
             f"Python {_text(cell['python'])} · " + " · ".join(
                 _text(line) for line in _col_lines(cell)),
             _text(_row_label(cell)),
             f"<b>{_text(verdict)}</b>"
             + (f" ({cell['passing']}/{cell['scenarios']} scenarios pass)"
                if cell["scenarios"] else "")]
    if cell["signature"]:
        lines.append("signature: " + _text(_shorten(cell["signature"], 90)))
    if cell["reason"]:
        lines.append(_text(_shorten(cell["reason"], 90)))
    lines.append("click for details")
    return "<br>".join(lines)


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _colorscale() -> list[tuple[float, str]]:
    # One flat band per state: z is the state's code, zmin/zmax put codes mid-band.
    count = len(STATE_STYLE)
    scale = []
    for code, (colour, _, _) in enumerate(STATE_STYLE.values()):
        scale += [(code / count, colour), ((code + 1) / count, colour)]
    return scale


def grid_figure(cells: list[dict[str, Any]]) -> go.Figure:
    """One caniuse-style grid: rows pytest-asyncio x pytest, columns plugin x versions,
    coloured by cell verdict, a glyph in each cell, and the cell id in ``customdata``
    (the page's click handler reads it)."""
    rows, cols, place = _layout(cells)
    z = [[None] * len(cols) for _ in rows]
    glyph = [[""] * len(cols) for _ in rows]
    custom = [[["", ""] for _ in cols] for _ in rows]
    for (i, j), cell in place.items():
        z[i][j] = STATE_CODE[cell["verdict"]]
        glyph[i][j] = STATE_STYLE[cell["verdict"]][1]
        custom[i][j] = [cell["cell_id"], _hover(cell)]
    x = ["<br>".join(_text(line) for line in _col_lines(c)) for c in cols]
    y = [_text(_row_label(c)) for c in rows]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, text=glyph, customdata=custom, texttemplate="%{text}",
        hovertemplate="%{customdata[1]}<extra></extra>", colorscale=_colorscale(),
        zmin=-0.5, zmax=len(STATE_STYLE) - 0.5, showscale=False, xgap=2, ygap=2,
        hoverongaps=False, textfont={"size": 15}))
    label_lines = max((len(_col_lines(c)) for c in cols), default=1)
    top = 16 * label_lines + 16
    fig.update_layout(
        template="none", width=255 + 84 * len(cols), height=top + 34 * len(rows) + 12,
        margin={"l": 245, "r": 10, "t": top, "b": 12}, dragmode=False,
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        xaxis={"side": "top", "type": "category", "fixedrange": True, "tickangle": 0},
        yaxis={"type": "category", "autorange": "reversed", "fixedrange": True},
        hoverlabel={"align": "left"}, plot_bgcolor="#ffffff", paper_bgcolor="#ffffff")
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def grids(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One grid per Python version (newest first): the plotly fragment, and the same grid
    as an HTML table of links (for keyboards, screen readers and a page without script)."""
    by_python: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        by_python.setdefault(cell["python"] or "unknown", []).append(cell)
    out = []
    for python in sorted(by_python, key=version_key, reverse=True):
        mine = by_python[python]
        div_id = f"grid-py{_slug(python)}"
        fragment = pio.to_html(grid_figure(mine), full_html=False, include_plotlyjs=False,
                               div_id=div_id, config={"displayModeBar": False})
        counts = {s: sum(c["verdict"] == s for c in mine) for s in STATE_STYLE}
        out.append({"python": python, "div_id": div_id, "plot": Markup(fragment),
                    "table": _grid_table(mine), "cells": len(mine),
                    "counts": {s: n for s, n in counts.items() if n}})
    return out


def _grid_table(cells: list[dict[str, Any]]) -> dict[str, Any]:
    rows, cols, place = _layout(cells)
    body = []
    for i, row in enumerate(rows):
        entries = []
        for j in range(len(cols)):
            cell = place.get((i, j))
            entries.append(None if cell is None else {
                "href": cell_href(cell["cell_id"]), "verdict": cell["verdict"],
                "glyph": STATE_STYLE[cell["verdict"]][1], "cell_id": cell["cell_id"],
                "signature": cell["signature"]})
        body.append({"label": _row_label(row), "cells": entries})
    return {"columns": [_col_lines(c) for c in cols], "rows": body}


# ---------------------------------------------------------------- page sections


def answer(analysis: Analysis) -> list[dict[str, Any]]:
    """Per Playwright plugin: its newest passing combination, the derived fixes, and the
    measured remedies that work for its users (smallest first)."""
    out = []
    for plugin, rec in analysis.recs.items():
        best = rec["best"]
        out.append({
            "plugin": plugin, "label": rec["label"], "measured": rec["measured"],
            "passing": rec["passing"], "fixes": analysis.fixes.get(plugin, []),
            # only once variants were measured: before, the fixes above say as much
            "remedies": [{"what": r.what, "key": r.key, "where": ", ".join(r.works_on)}
                         for r in remedy_rows.working(analysis.remedies, plugin)
                         ] if analysis.variant_records else [],
            "best": describe(best) if best else None,
            "best_href": cell_href(best["cell_id"]) if best else None,
            "by_python": [{"python": py, "text": describe(c), "href": cell_href(c["cell_id"])}
                          for py, c in rec["by_python"].items()],
            "badge": badge(rec),
        })
    return out


REMEDY_STATE = {"works": "pass", "breaks": "bug", "hangs": "timeout", "mixed": "flaky"}


def remedies_view(analysis: Analysis, logs: Mapping[str, str]) -> dict[str, Any]:
    """The Remedies section: per remedy or shape, its pytest-asyncio families, each with
    its result and the cells behind it (repro command, log); then the variant cells that
    were not generated because the variant cannot apply."""
    rows = []
    for row in analysis.remedies:
        families = [{"span": f.span, "state": f.state, "css": REMEDY_STATE[f.state],
                     "labels": list(f.labels),
                     "cells": [_remedy_cell(res, logs) for res in f.results]}
                      for f in row.families]
        rows.append({"key": row.key, "what": row.what, "attempt": row.attempt,
                     "kind": row.kind, "families": families,
                     "plugin": PLUGIN_LABELS.get(row.plugin, row.plugin)})
    reasons: dict[str, int] = {}
    for cell in analysis.not_applicable:
        reason = cell.get("reason") or "the variant does not apply"
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"rows": rows, "not_applicable": sorted(reasons.items())}


def _remedy_cell(res: remedy_rows.Result, logs: Mapping[str, str]) -> dict[str, Any]:
    record = res.record
    return {"cell_id": res.cell_id, "pytest": res.pins.get("pytest"), "label": res.label,
            "scenario": record.scenario, "message": record.message, "repro": record.repro,
            "log": logs.get(record.log or ""), "asyncio": res.pins.get("pytest-asyncio")}


RELEASE_AXES = ("python", "pytest", "pytest-asyncio", "pytest-playwright",
                "pytest-playwright-asyncio", "playwright", "pytest-cov", "coverage")


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
    return {"links": [{"cell_id": c, "href": cell_href(c)} for c in ids[:cap]],
            "more": max(0, len(ids) - cap), "count": len(ids)}


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
        loop.append({"id": sig, "anchor": f"sig-{_slug(sig)}",
                     "explanation": SIGNATURES.get(sig), "scenarios": len(hit),
                     "scenario_names": sorted(set(hit["scenario"]), key=model.scenario_rank),
                     "cells": _cell_links(hit["cell_id"]), "releases": _releases(hit),
                     "workaround": _isolated_rescue(scen, hit), "bisect": moves.get(sig, [])})
    other = [o | {"bisect": moves.get(o["key"], [])}
             for o in _other_failures(scen, set(loop_ids))]
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
                    "direction": direction, "axis": p["axis"], "at": p["first_bad"],
                    "after": p["last_good"], "where": where, "run_id": p["run_id"],
                    "href": "#" + _point_anchor(p)}
    return {sig: list(found.values()) for sig, found in moves.items()}


def _isolated_rescue(scen: pd.DataFrame, hit: pd.DataFrame) -> dict[str, int] | None:
    """Of the cells this signature hits in e2e-first, how many pass when isolated."""
    cells = set(hit.loc[hit["scenario"] == "e2e-first", "cell_id"])
    if not cells:
        return None
    isolated = scen[(scen["scenario"] == "isolated") & scen["cell_id"].isin(cells)]
    return {"cells": len(cells), "measured": len(isolated),
            "passed": int((isolated["outcome"] == "pass").sum())}


def _other_failures(scen: pd.DataFrame, loop_ids: set[str]) -> list[dict[str, Any]]:
    failed = scen[scen["outcome"].isin(["fail", "timeout", "infra", "flaky", "unresolvable"])
                  & ~scen["signature"].isin(loop_ids)]
    keys = failed["signature"].where(failed["signature"].notna(),
                                     failed["outcome"] + ": " + failed["message"].fillna(""))
    groups = []
    for key, hit in failed.groupby(keys, sort=True):
        groups.append({"key": key, "outcomes": sorted(set(hit["outcome"])),
                       "scenarios": len(hit), "message": hit["message"].dropna().iloc[0]
                       if hit["message"].notna().any() else None,
                       "cells": _cell_links(hit["cell_id"]), "releases": _releases(hit)})
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
        contexts = [{"text": _context_text(c["context"]),
                     "before_href": cell_href(c["before_cell"]),
                     "after_href": cell_href(c["after_cell"])} for c in entry["contexts"]]
        by_axis.setdefault(entry["axis"], []).append(entry | {"contexts": contexts})
    return [{"axis": axis, "label": AXIS_LABELS.get(axis, axis), "entries": entries}
            for axis, entries in by_axis.items()]


def _pins_text(python: str, pins: Mapping[str, str]) -> str:
    """``Python 3.13 · pytest-playwright 0.7.1 · playwright 1.56.0``: what a search held."""
    order = {dist: n for n, dist in enumerate(RELEASE_AXES)}
    parts = [f"Python {python}"] if python else []
    parts += [f"{d} {v}" for d, v in sorted(pins.items(), key=lambda kv: (
        order.get(kv[0], len(order)), kv[0]))]
    return " · ".join(parts) or "nothing pinned"


def _sig_link(sig: str) -> dict[str, Any]:
    """A signature, with the anchor of its entry when the catalogue has one."""
    return {"id": sig, "href": f"#sig-{_slug(sig)}" if sig in SIGNATURES else None}


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
    return [{"axis": axis, "label": AXIS_LABELS.get(axis, axis), "searches": searches}
            for axis, searches in by_axis.items()]


def _search_view(number: int, finding: Mapping[str, Any], points: list[dict[str, Any]]) -> dict:
    """One bisect search: its range, the pins it held, its first change point, its gaps."""
    keep = ("good", "bad", "run_id", "scenarios", "compare", "cells_measured", "grid_size",
            "gaps", "stepped", "across")
    return {k: finding[k] for k in keep} | {
        "anchor": f"bisect-{number}", "where": _pins_text(finding["python"], finding["pins"]),
        "when": _when(finding["started_at"]), "points": points,
        "first": points[0] if points else None}


def _point_view(point: Mapping[str, Any], here: set[str]) -> dict[str, Any]:
    """One change point: per scenario both sides' outcome and signatures, what appears
    and disappears, links to both cells when they are on the page, and the repro."""
    def side(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
        look = STATE_STYLE.get(state["outcome"]) if state else None  # glyph: not colour alone
        return state and {"outcome": state["outcome"], "glyph": look[1] if look else "",
                          "signatures": [_sig_link(s) for s in state["signatures"]]}

    rows = [{"scenario": s, "differs": s in point["differ"],
             "before": side(point["before"].get(s)), "after": side(point["after"].get(s))}
            for s in point["scenarios"]]
    cells = {f"{end}_href": cell_href(point[f"{end}_cell"]) if point[f"{end}_cell"] in here
             else None for end in ("last_good", "first_bad")}
    keep = ("last_good", "first_bad", "last_good_cell", "first_bad_cell", "unusable", "repro")
    return {k: point[k] for k in keep} | cells | {
        "anchor": _point_anchor(point), "rows": rows, "first": point["number"] == 1,
        "appears": [_sig_link(s) for s in point["appears"]],
        "disappears": [_sig_link(s) for s in point["disappears"]]}


def fix_views(analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Per cell on the page that explain started from: its smallest known fix (None when
    the search found none), for the cell details the script draws."""
    here = {c["cell_id"] for c in analysis.cells}
    return {cell: {"fix": found["fix"], "run_id": found["run_id"],
                   "when": _when(found["started_at"]),
                   "more": max(0, len(found["candidates"]) - 1)}
            for cell, found in findings.smallest_fixes(analysis.explain).items() if cell in here}


def changes_view(changes: Mapping[str, Any], cells: Iterable[Mapping[str, Any]]) -> dict:
    """The changes section: status, the previous run's date, and capped lists (a cell
    that is gone has no details to link to)."""
    view = {"status": changes["status"], "reason": changes.get("reason"),
            "date": _when(changes.get("date")), "groups": []}
    here = {c["cell_id"] for c in cells}
    if changes["status"] == "compared":
        for kind in ("regressed", "fixed", "changed", "new", "gone"):
            items = changes[kind]
            entries = [i | {"href": cell_href(i["cell_id"]) if i["cell_id"] in here else None}
                       for i in items[:LIST_CAP]]
            view["groups"].append({"kind": kind, "count": len(items), "entries": entries,
                                   "more": max(0, len(items) - LIST_CAP)})
    return view


def _when(stamp: str | None) -> str | None:
    """An ISO time as "2026-11-20 04:17 UTC" (the records are in UTC)."""
    if not stamp:
        return None
    text = str(stamp).replace("T", " ")
    return text[:16] + " UTC" if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", text) else text


def _duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


# ---------------------------------------------------------------- data for the script


def script_json(data: Any) -> Markup:
    """JSON safe to place inside a ``<script>`` element: ``<``, ``>`` and ``&`` (and the
    two JavaScript line separators) become ``\\u`` escapes, so no record text can close
    the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return Markup(text)


def _record_row(record: Record, current: bool, logs: Mapping[str, str]) -> dict:
    """One record as a row of the page's records table."""
    requested = record.requested or {}
    plugin, version = plugin_of(requested)
    resolved = record.resolved or {}
    row = {dist: requested.get(dist) for dist in
           ("python", "pytest", "pytest-asyncio", "playwright", "pytest-cov")}
    row.update({key: getattr(record, key) for key in (
        "cell_id", "scenario", "attempt", "signature", "message", "duration_s",
        "started_at", "repro", "run_id", "control_signature", "probe")})
    row.update(outcome=record.outcome.value, plugin=plugin, plugin_version=version,
               current=int(current), python_full=record.python,
               log=logs.get(record.log or ""),
               tests="/".join(str(getattr(record.tests, k)) for k in COUNTS),
               resolved="\n".join(f"{k} {v}" for k, v in sorted(resolved.items())) or None)
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
    encoded = [[r[key] if kind == "n" else codes[key].get(r[key], -1)
                for key, _, kind, _ in RECORD_COLUMNS] for r in rows]
    columns = [{"key": key, "label": label, "kind": kind, "show": show}
               for key, label, kind, show in RECORD_COLUMNS]
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
            [r["scenario"], r["outcome"], int(r["seq"]), int(r["attempts"])])
    keys = ("python", "plugin", "plugin_version", "pytest", "pytest-asyncio", "playwright",
            "pytest-cov", "coverage", "verdict", "reason", "signature")
    cells = [{"id": c["cell_id"], **{k: c[k] for k in keys},
              "scenarios": sorted(per_cell.get(c["cell_id"], []),
                                  key=lambda s: model.scenario_rank(s[0]))}
             for c in analysis.cells]
    return {"records": _encode(rows), "cells": cells,
            "states": {s: list(style) for s, style in STATE_STYLE.items()},
            "catalogue": {sig: f"sig-{_slug(sig)}" for sig in SIGNATURES},
            "scenarioHelp": _scenario_help(), "fixes": fix_views(analysis),
            "ask": ask_data(analysis)}


def ask_data(analysis: Analysis) -> dict[str, Any]:
    """What the box at the top needs to answer in the page: the one catalogue of signatures
    and its normalisation (exported, never copied into the script), each plugin's newest
    passing combination, the grid of each Python, and the dataset's provenance."""
    best = {plugin: {"cell_id": rec["best"]["cell_id"], "text": describe(rec["best"])}
            for plugin, rec in analysis.recs.items() if rec["best"]}
    pythons = {c["python"] for c in analysis.cells if c["python"]}
    return {"signatures": signature_catalogue.export(), "best": best,
            "grids": {p: f"grid-py{_slug(p)}-section" for p in sorted(pythons)},
            "provenance": analysis.provenance, **analysis.asked}


def _scenario_help() -> dict[str, str]:
    try:  # the scenario list belongs to the runner; the page only borrows its words
        from matrix.define.scenarios import ALL
    except ImportError:
        return {}
    return {s.name: s.description for s in ALL}


# ---------------------------------------------------------------- rendering


def provenance_view(p: Mapping[str, Any] | None) -> str | None:
    """The dataset's provenance in one sentence, or None for records measured here."""
    return sources.provenance_text(dict(p)) if p else None


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def render(analysis: Analysis, logs: Mapping[str, str] | None = None) -> str:
    """The page's HTML."""
    ev = analysis.evidence
    evidence = ev | {"started": _when(ev["started"]), "finished": _when(ev["finished"]),
                     "snapshot_time": _when(ev["snapshot_time"]),
                     "wall": _duration(ev["wall_s"]), "test_time": _duration(ev["test_time_s"])}
    context = {
        "provenance": provenance_view(analysis.provenance),
        "answer": answer(analysis),
        "remedies": remedies_view(analysis, logs or {}),
        "legend": [{"state": s, "colour": c, "glyph": g, "label": label,
                    "count": ev["cell_verdicts"].get(s, 0)}
                   for s, (c, g, label) in STATE_STYLE.items()],
        "grids": grids(analysis.cells),
        "signatures": signatures(analysis),
        "boundaries": boundaries(analysis),
        "bisect": bisect_view(analysis),
        "searches": {"bisect": len(analysis.bisect), "explain": len(analysis.explain)},
        "changes": changes_view(analysis.changes, analysis.cells),
        "evidence": evidence,
        "warnings": analysis.warnings,
        "suites": _suite_views(analysis.suites, logs or {}),
        "scenario_help": _scenario_help(),
        "data": script_json(payload(analysis, logs or {})),
    }
    return _environment().get_template("index.html.j2").render(**context)
