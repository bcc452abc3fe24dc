"""The grids: one caniuse-style plotly heatmap per Python, and the same grid as a table.

Rows are pytest-asyncio x pytest, columns the plugin x its versions; each cell is coloured
by its verdict and carries a glyph, so colour is never the only cue. Hover text is
HTML-escaped before plotly sees it (plotly reads a few HTML-like tags in labels), and plot
div ids are derived from the Python version, so the same cells give the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from matrix.define.versions import version_key
from matrix.publish.analysis import (
    ASYNC,
    INCOMPATIBLE,
    NATIVE,
    NONE,
    NOT_RUN,
    PLUGIN_ORDER,
    SEVERITY,
    SYNC,
)

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


SHORT_PLUGIN = {SYNC: "sync", ASYNC: "async", NATIVE: "no plugin", NONE: "control"}


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
    return (
        rank,
        plugin,
        *(version_key(cell[k]) for k in ("plugin_version", "playwright", "pytest-cov", "coverage")),
    )


def _row_label(cell: Mapping[str, Any]) -> str:
    return f"pytest-asyncio {cell['pytest-asyncio'] or '–'} · pytest {cell['pytest'] or '–'}"


def _col_lines(cell: Mapping[str, Any]) -> list[str]:
    head = SHORT_PLUGIN.get(cell["plugin"], cell["plugin"])
    lines = [f"{head} {cell['plugin_version']}" if cell["plugin_version"] else head]
    lines += [
        f"{short} {cell[dist]}"
        for dist, short in (("playwright", "pw"), ("pytest-cov", "cov"), ("coverage", "coverage"))
        if cell.get(dist)
    ]
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
    lines = [
        f"<b>{_text(cell['cell_id'])}</b>",
        f"Python {_text(cell['python'])} · " + " · ".join(_text(line) for line in _col_lines(cell)),
        _text(_row_label(cell)),
        f"<b>{_text(verdict)}</b>"
        + (f" ({cell['passing']}/{cell['scenarios']} scenarios pass)" if cell["scenarios"] else ""),
    ]
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
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=glyph,
            customdata=custom,
            texttemplate="%{text}",
            hovertemplate="%{customdata[1]}<extra></extra>",
            colorscale=_colorscale(),
            zmin=-0.5,
            zmax=len(STATE_STYLE) - 0.5,
            showscale=False,
            xgap=2,
            ygap=2,
            hoverongaps=False,
            textfont={"size": 15},
        )
    )
    label_lines = max((len(_col_lines(c)) for c in cols), default=1)
    top = 16 * label_lines + 16
    fig.update_layout(
        template="none",
        width=255 + 84 * len(cols),
        height=top + 34 * len(rows) + 12,
        margin={"l": 245, "r": 10, "t": top, "b": 12},
        dragmode=False,
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        xaxis={"side": "top", "type": "category", "fixedrange": True, "tickangle": 0},
        yaxis={"type": "category", "autorange": "reversed", "fixedrange": True},
        hoverlabel={"align": "left"},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return fig


def slug(text: str) -> str:
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
        div_id = f"grid-py{slug(python)}"
        fragment = pio.to_html(
            grid_figure(mine),
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displayModeBar": False},
        )
        counts = {s: sum(c["verdict"] == s for c in mine) for s in STATE_STYLE}
        out.append(
            {
                "python": python,
                "div_id": div_id,
                "plot": Markup(fragment),
                "table": _grid_table(mine),
                "cells": len(mine),
                "counts": {s: n for s, n in counts.items() if n},
            }
        )
    return out


def _grid_table(cells: list[dict[str, Any]]) -> dict[str, Any]:
    rows, cols, place = _layout(cells)
    body = []
    for i, row in enumerate(rows):
        entries = []
        for j in range(len(cols)):
            cell = place.get((i, j))
            entries.append(
                None
                if cell is None
                else {
                    "href": cell_href(cell["cell_id"]),
                    "verdict": cell["verdict"],
                    "glyph": STATE_STYLE[cell["verdict"]][1],
                    "cell_id": cell["cell_id"],
                    "signature": cell["signature"],
                }
            )
        body.append({"label": _row_label(row), "cells": entries})
    return {"columns": [_col_lines(c) for c in cols], "rows": body}
