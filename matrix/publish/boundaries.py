"""Version boundaries: where a cell's verdict changes along one axis, everything else fixed.

A *transition* is a pair of neighbouring measured cells along one axis whose verdicts
differ (or whose loop-conflict signatures do): ``breaks``, ``fixes`` or ``changes``. Cells
that did not decide are stepped over, so a pair is the narrowest measured range.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from matrix.define.versions import version_key
from matrix.publish.analysis import AXES, cell_dicts, cell_order, present
from matrix.results.model import DECIDED


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
            if present(cell[axis]):
                key = (cell["plugin"], *(cell[a] or "" for a in others))
                lines.setdefault(key, []).append(cell)
        for line in sorted(lines.values(), key=lambda cs: cell_order(cs[0])):
            line.sort(key=lambda c: (version_key(c[axis]), c["cell_id"]))
            out += [
                _transition(axis, others, a, b)
                for a, b in itertools.pairwise(line)
                if _differ(a, b) and a[axis] != b[axis]
            ]
    return out


def _differ(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # Two loop conflicts with different signatures are a change too: which release gives
    # which error is part of what the matrix measures.
    return a["verdict"] != b["verdict"] or (
        a["verdict"] == "bug" and a["signature"] != b["signature"]
    )


def _transition(axis: str, others: list[str], before: dict, after: dict) -> dict[str, Any]:
    if before["verdict"] == "pass":
        kind = "breaks"
    else:
        kind = "fixes" if after["verdict"] == "pass" else "changes"
    context = {"plugin": before["plugin"]}
    context.update({a: before[a] for a in others if present(before[a])})
    return {
        "axis": axis,
        "kind": kind,
        "before": before[axis],
        "after": after[axis],
        "before_verdict": before["verdict"],
        "after_verdict": after["verdict"],
        "before_signature": before["signature"],
        "after_signature": after["signature"],
        "before_cell": before["cell_id"],
        "after_cell": after["cell_id"],
        "context": context,
    }


def transition_summary(found: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Transitions that share axis, versions, verdicts and signatures, merged into one
    entry listing the contexts (the fixed other versions) where each was seen."""
    merged: dict[tuple, dict[str, Any]] = {}
    for t in found:
        fields = (
            "axis",
            "kind",
            "before",
            "after",
            "before_verdict",
            "after_verdict",
            "before_signature",
            "after_signature",
        )
        entry = merged.setdefault(
            tuple(t[k] or "" for k in fields), {k: t[k] for k in fields} | {"contexts": []}
        )
        entry["contexts"].append(
            {
                "context": t["context"],
                "before_cell": t["before_cell"],
                "after_cell": t["after_cell"],
            }
        )
    return sorted(
        merged.values(),
        key=lambda e: (
            AXES.index(e["axis"]),
            version_key(e["before"]),
            version_key(e["after"]),
            e["before_verdict"],
            e["after_verdict"],
            e["before_signature"] or "",
            e["after_signature"] or "",
        ),
    )
