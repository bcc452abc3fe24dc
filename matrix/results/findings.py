"""Findings: what ``bisect`` and ``explain`` append beside ``results.jsonl``, and reading them.

One module for the schema, the writer and the one reader, shared by the searches that
write findings (``bisect``, ``explain``), ``whence`` and the page that read them. The
lines themselves are built by the searches (``matrix.search.bisect_report.finding_json``,
``matrix.search.explain_report.finding_json``): they are made of the searches' own types,
which this stage may not import.

A bisect *change point* is two neighbouring measured releases whose keys (per scenario:
outcome and signature set) differ; explain's *smallest known fix* for a cell is the first
ranked candidate of the newest search that started from it.

Reading has one error policy: a line that is not a whole finding (cut mid-write, of the
wrong kind or shape) is skipped with a warning that names its line, never a traceback;
a missing file holds no finding.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from matrix import log
from matrix.results.model import scenario_rank

BISECT, EXPLAIN = "bisect", "explain"
#: The findings file of each kind, beside ``results.jsonl``.
FILES = {BISECT: "bisect.jsonl", EXPLAIN: "explain.jsonl"}
#: The schema each kind's lines are written with (a reader takes every earlier one too).
SCHEMAS = {BISECT: 1, EXPLAIN: 2}


def append_finding(path: Path, finding: Mapping[str, Any]) -> None:
    """Append one finding as one JSON line, under a lock: parallel searches share a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(finding, sort_keys=True, ensure_ascii=False) + "\n")
        f.flush()


def read_findings(path: Path, kind: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every whole finding of a ``bisect.jsonl`` or ``explain.jsonl`` (``kind``), in the
    shape :func:`bisect_finding` or :func:`explain_finding` gives, and a warning per
    skipped line. A missing file holds no finding and is no warning.

    Findings are sorted by start time, then axis, then content: two searches appended by
    parallel jobs can land in either order, and the page must not depend on which.
    """
    if not path.is_file():
        return [], []
    parse = bisect_finding if kind == "bisect" else explain_finding
    found, warnings = [], []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                found.append(parse(_finding_object(line, kind)))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                warnings.append(
                    f"{path.name} line {number}: skipped, not a whole finding "
                    f"({type(exc).__name__}: {str(exc)[:120]})"
                )
                log.warning(warnings[-1])
    found.sort(
        key=lambda f: (f["started_at"] or "", f.get("axis") or "", json.dumps(f, sort_keys=True))
    )
    return found, warnings


def _finding_object(line: str, kind: str) -> dict[str, Any]:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise TypeError("a JSON object was expected")
    if data.get("kind") != kind:
        raise ValueError(f"kind is {data.get('kind')!r}, not {kind!r}")
    return data


def _get(data: Any, key: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
    """``data[key]``, checked to be a ``kind`` (or None when ``optional``): a finding is
    read once here, so the page never meets a field of the wrong type."""
    if not isinstance(data, dict):
        raise TypeError("a JSON object was expected")
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{key} is {type(value).__name__}")
    return value


def _strings(data: Any, key: str) -> list[str]:
    """A list of strings that may be missing (then empty)."""
    values = _get(data, key, list, optional=True) or []
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{key} holds something other than text")
    return values


def _string_map(data: Any, key: str) -> dict[str, str]:
    values = _get(data, key, dict, optional=True) or {}
    if not all(isinstance(v, str) for v in values.values()):
        raise TypeError(f"{key} holds something other than text")
    return dict(sorted(values.items()))


def _scenario_state(data: Any, compare: str = "set") -> dict[str, Any]:
    """One scenario's key as bisect compares it: its outcome and its signature set (the
    first signature alone under ``--compare primary``)."""
    signature = _get(data, "signature", str, optional=True)
    found = _strings(data, "signatures") or ([signature] if signature else [])
    return {
        "outcome": _get(data, "outcome", str),
        "signatures": ([signature] if signature else []) if compare == "primary" else found,
    }


def _scenario_states(data: Any, compare: str = "set") -> dict[str, dict[str, Any]]:
    states = _get(data, "scenarios", dict, optional=True) or {}
    return {
        name: _scenario_state(state, compare)
        for name, state in sorted(states.items(), key=lambda kv: scenario_rank(kv[0]))
    }


def bisect_finding(data: Mapping[str, Any]) -> dict[str, Any]:
    """One bisect search (a line of ``bisect.jsonl``, see
    ``matrix.search.bisect_report.finding_json``) reduced to what the site shows, each change
    point with both sides' keys per scenario. Raises TypeError, KeyError or ValueError for a
    finding that is not whole."""
    compare = _get(data, "compare", str, optional=True) or "set"
    measured = {}
    for item in _get(data, "measured", list):
        measured[_get(item, "version", str)] = {
            "cell_id": _get(item, "cell_id", str, optional=True),
            "scenarios": _scenario_states(item, compare),
        }
    counts = {
        key: _get(data, key, int, optional=True)
        for key in ("cells_measured", "cells_run", "grid_size")
    }
    return {
        "run_id": _get(data, "run_id", str, optional=True),
        "started_at": _get(data, "started_at", str, optional=True),
        "axis": _get(data, "axis", str),
        "python": _get(data, "python", str, optional=True) or "",
        "pins": _string_map(data, "pins"),
        "scenarios": _strings(data, "scenarios"),
        "compare": compare,
        "good": _get(data, "good", str, optional=True),
        "bad": _get(data, "bad", str, optional=True),
        **counts,
        "across": _strings(data, "across"),
        "changes": [_bisect_change(c, measured) for c in _get(data, "changes", list)],
        "gaps": [
            {
                "start": _get(g, "start", str),
                "end": _get(g, "end", str),
                "skipped": _get(g, "skipped", int),
            }
            for g in _get(data, "gaps", list, optional=True) or []
        ],
        "stepped": [
            {"version": _get(s, "version", str), "reason": _get(s, "reason", str, True)}
            for s in _get(data, "stepped", list, optional=True) or []
        ],
    }


def _bisect_change(data: Any, measured: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    last, first = _get(data, "last_good", str), _get(data, "first_bad", str)
    if last not in measured or first not in measured:
        raise ValueError(f"change point {last} -> {first} names a release it did not measure")
    return {
        "last_good": last,
        "first_bad": first,
        "last_good_cell": _get(data, "last_good_cell", str, True) or measured[last]["cell_id"],
        "first_bad_cell": _get(data, "first_bad_cell", str, True) or measured[first]["cell_id"],
        "before": measured[last]["scenarios"],
        "after": measured[first]["scenarios"],
        "unusable": _strings(data, "unusable"),
        "repro": _strings(data, "repro"),
    }


def explain_finding(data: Mapping[str, Any]) -> dict[str, Any]:
    """One explain search (a line of ``explain.jsonl``, see ``matrix.search.explain.finding_json``)
    reduced to its start and its ranked candidates, smallest change first. Raises
    TypeError, KeyError or ValueError for a finding that is not whole."""
    start = _get(data, "start", dict)
    return {
        "run_id": _get(data, "run_id", str, optional=True),
        "started_at": _get(data, "started_at", str, optional=True),
        "start": {
            "cell_id": _get(start, "cell_id", str),
            "kind": _get(start, "kind", str, optional=True),
            "signatures": _strings(start, "signatures"),
        },
        "candidates": [_candidate(c) for c in _get(data, "candidates", list)],
    }


def _candidate(data: Any) -> dict[str, Any]:
    states = _get(data, "scenarios", dict, optional=True) or {}
    ordered = sorted(states.items(), key=lambda kv: scenario_rank(kv[0]))
    return {
        "rank": _get(data, "rank", int, optional=True),
        "kind": _get(data, "kind", str),
        "summary": _get(data, "summary", str),
        "how": _strings(data, "how"),
        "size": _get(data, "size", int, optional=True),
        "cell_id": _get(data, "cell_id", str),
        "source": _get(data, "source", str, optional=True),
        "run_ids": _strings(data, "run_ids"),
        "outcomes": [[name, _get(state, "outcome", str)] for name, state in ordered],
        "repro": [
            _get(state, "repro", str)
            for _, state in ordered
            if _get(state, "repro", str, optional=True)
        ],
    }


def change_points(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every change point of every bisect finding (in the order given), flattened: the
    search's axis and pins, ``finding`` and ``number`` (both from 1), the scenarios in
    order, those whose key differs, and the signatures that ``appears`` and
    ``disappears`` across it (over every scenario)."""
    out = []
    for i, finding in enumerate(findings, 1):
        for j, change in enumerate(finding["changes"], 1):
            before, after = change["before"], change["after"]
            names = sorted(
                set(finding["scenarios"]) | before.keys() | after.keys(), key=scenario_rank
            )
            shown = [
                {s for state in side.values() for s in state["signatures"]}
                for side in (before, after)
            ]
            out.append(
                {
                    "finding": i,
                    "number": j,
                    **change,
                    "scenarios": names,
                    **{k: finding[k] for k in ("axis", "python", "pins", "run_id", "started_at")},
                    "differ": [s for s in names if before.get(s) != after.get(s)],
                    "appears": sorted(shown[1] - shown[0]),
                    "disappears": sorted(shown[0] - shown[1]),
                }
            )
    return out


def smallest_fixes(findings: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per start cell id, from the newest explain finding of that cell: its first ranked
    candidate (``fix``; None when the search found none), every ranked candidate, and the
    search's run and time. ``findings`` are oldest first, as :func:`read_findings` gives."""
    out: dict[str, dict[str, Any]] = {}
    for finding in findings:  # a later search of the same cell replaces an earlier one
        ranked = finding["candidates"]
        out[finding["start"]["cell_id"]] = {
            "run_id": finding["run_id"],
            "started_at": finding["started_at"],
            "start_kind": finding["start"]["kind"],
            "start_signatures": finding["start"]["signatures"],
            "fix": ranked[0] if ranked else None,
            "candidates": ranked,
        }
    return dict(sorted(out.items()))
