"""The page's ask box, answered in Python: what ``check`` and ``whence`` would say, shipped
with the page as data so that the script looks answers up and never re-derives a rule.

* **Versions** (the pickers): the answer engine's answer for every plugin with every
  measured release (or any) of each axis that matters to a verdict. The axes that do not
  matter never change an answer, so the script leaves them out of the key; it checks the
  pins that declared metadata refuses (pairs of picker values, and one picker value on a
  Python) and the cells measured with exactly the chosen pins itself, from the tables here.
* **Errors** (the text box): for every signature the catalogue knows or a record shows,
  whence's answer: its meaning and fixes, the combinations that show it (variant cells
  included), the releases they span and the remedies measured where it shows.

The script recognises a pasted text with the catalogue's own patterns (``signatures``);
the browser test holds it to ``whence.identify`` on a shared table of inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matrix.define import releases
from matrix.define.cell import ASYNC_PLUGIN, SYNC_PLUGIN
from matrix.define.versions import version_key
from matrix.results import answers, model
from matrix.results.record import Record

#: The pickers, in the page's order; ``plugin`` is a plugin and its release.
PICKERS = ("python", "pytest", "pytest-asyncio", "plugin", "playwright")
MAX_KEYS = 20000  # answers shipped at most (the page stays a few MB at worst)
FIXES_SHIPPED = 8  # ranked fixes per answer: the first the pins allow is shown


def plugin_label(family: str, version: str | None) -> str:
    """A picker's plugin value: ``pytest-playwright 0.7.1``, or the family alone."""
    return f"{family} {version}" if family in (SYNC_PLUGIN, ASYNC_PLUGIN) and version else family


def query_of(chosen: Mapping[str, str | None]) -> answers.Query | None:
    """The engine's query for a picker selection (None: no plugin chosen)."""
    plugin = chosen.get("plugin")
    if not plugin:
        return None
    family, _, version = plugin.partition(" ")
    values: dict[str, str | None] = {
        a: chosen.get(a) or None for a in ("python", "pytest", "pytest-asyncio", "playwright")
    }
    values["plugin"] = version or answers.ABSENT
    values["pytest-cov"] = None
    return answers.Query(family=family, values=values)


def versions_data(typed: Sequence[Record]) -> dict[str, Any]:
    """The pickers' values, the engine's cells and the answers keyed by what matters."""
    engine = answers.Engine(answers.cells(typed), releases.load())
    # pytest-asyncio always: the expected signature is the nearest release's
    keyed = [
        a
        for a in ("python", "pytest", "pytest-asyncio", "playwright")
        if a == "pytest-asyncio" or any(a in p.matter for p in engine.parts)
    ]
    values = _picker_values(engine.cells)
    plugins = values["plugin"]
    index = {c.cell_id: n for n, c in enumerate(engine.cells)}
    table: dict[str, Any] = {}
    for plugin in plugins:
        for combo in itertools.product(*[[None, *values[a]] for a in keyed]):
            if len(table) >= MAX_KEYS:
                break
            chosen = {"plugin": plugin, **dict(zip(keyed, combo))}
            table[key_of(chosen, keyed)] = _entry(engine, query_of(chosen), index)
    browser = engine.browser.get("pass") or engine.parts[-1]
    return {
        "pickers": values,
        "keyed": keyed,
        "answers": table,
        # why an axis that does not matter may differ from the evidence (the engine's words)
        "free": {
            a: browser.free_text(a)
            for a in ("python", "pytest", "pytest-asyncio", "playwright")
            if a not in browser.matter
        },
        "cells": [
            {
                "id": c.cell_id,
                "plugin": plugin_label(c.family, c.values.get("plugin")),
                **{
                    a: c.values.get(a) for a in ("python", "pytest", "pytest-asyncio", "playwright")
                },
                "verdict": c.verdict,
            }
            for c in engine.cells
        ],
        "severity": list(model.SEVERITY),
        "axes": list(answers.AXES),
        "refused": _refusals(engine, values),
    }


def key_of(chosen: Mapping[str, str | None], keyed: Iterable[str]) -> str:
    """The table key of a selection: the plugin, then each axis that matters (or empty)."""
    return "|".join([chosen.get("plugin") or "", *(chosen.get(a) or "" for a in keyed)])


def _entry(
    engine: answers.Engine, query: answers.Query, index: Mapping[str, int]
) -> dict[str, Any]:
    """The answer for a selection that no cell measured exactly (the script checks refusals
    and exact cells first), with the fix whenever a bad verdict may be shown for it."""
    inferred = engine.inferred(query)
    hits = engine.measured(query)
    bad = (inferred.kind == "inferred" and inferred.verdict != "pass") or (
        hits is not None and hits.verdict != "pass"
    )
    # the script shows the first fix whose pins, with the picker values left out of the
    # key, declared metadata does not refuse: the engine's own choice for the whole pins
    fixes = engine.fixes(query)[:FIXES_SHIPPED] if bad else []
    return compact(inferred, index) | {"fixes": [_fix(f, index) for f in fixes]}


def _fix(fix: answers.Fix, index: Mapping[str, int]) -> dict[str, Any]:
    return {
        "text": fix.text(),
        "support": fix.answer.label,
        "pins": fix.query.pins(),
        "code_change": fix.code_change,
        "set": {
            ("plugin" if a == "family" else a): _picker(fix.query, a) for a, _, _ in fix.changes
        },
        "evidence": [index[c.cell_id] for c in fix.answer.evidence[: answers.SHOWN]],
    }


def _picker(query: answers.Query, axis: str) -> str | None:
    """The picker value a fix sets on ``axis``."""
    if axis in ("family", "plugin"):
        return plugin_label(query.family, query.values.get("plugin"))
    return query.values.get(axis)


def compact(answer: answers.Answer, index: Mapping[str, int]) -> dict[str, Any]:
    """What the page shows of an answer (the words are the engine's own; cells as their
    position in the shipped cells)."""
    return {
        "kind": answer.kind,
        "verdict": answer.verdict,
        "label": answer.label,
        "why": answer.why,
        "expected": answer.expected_signature,
        "evidence": [index[c.cell_id] for c in answer.evidence],
        "reasons": [[r.axis, r.yours, r.text] for r in answer.reasons],
        "bisect": (
            answers.bisect_command(answer.query, answer.between[2], *answer.between[:2])
            if answer.between
            else None
        ),
    }


def _picker_values(found: Sequence[answers.CellResult]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for axis in PICKERS:
        if axis == "plugin":
            seen = {plugin_label(c.family, c.values.get("plugin")) for c in found}
            out[axis] = sorted(
                seen, key=lambda p: (p.split(" ")[0], version_key(p.partition(" ")[2]))
            )
        else:
            seen = {c.values.get(axis) for c in found} - {None, answers.ABSENT}
            out[axis] = sorted(seen, key=version_key)
    return out


def _refusals(engine: answers.Engine, values: Mapping[str, list[str]]) -> dict[str, str]:
    """Picker pairs (and picker values on one Python) that declared metadata refuses:
    ``"python=3.9|plugin=pytest-playwright 0.10.0"`` -> the requirement that refuses it."""
    singles = [(a, v) for a in PICKERS if a != "python" for v in values[a]]
    out = {}
    for python in [None, *values["python"]]:
        pairs = [((a, v),) for a, v in singles]
        pairs += [(x, y) for x, y in itertools.combinations(singles, 2) if x[0] != y[0]]
        for combo in pairs:
            if python is None and len(combo) == 1:
                continue
            chosen = {"python": python, **dict(combo)}
            query = query_of(chosen if "plugin" in chosen else {**chosen, "plugin": "none"})
            why = engine.unresolvable(query) if query else None
            if why:
                parts = ([f"python={python}"] if python else []) + [f"{a}={v}" for a, v in combo]
                out["|".join(sorted(parts))] = why
    return out


def errors_data(typed: Sequence[Record], folder: Path) -> dict[str, Any]:
    """Whence's answer for every signature the catalogue knows or a record shows."""
    from matrix.results import signatures
    from matrix.search import whence

    ids = [s.id for s in signatures.CATALOGUE]
    ids += sorted({r.signature for r in typed if r.signature} - set(ids))
    current = whence.latest(typed)  # once for every signature, not once each
    engine = answers.Engine(answers.cells(typed))
    read: dict[int, tuple[str, ...]] = {}  # each record's logs read once
    out = {}
    for sig in ids:
        found = whence.occurrences(sig, current, folder, read)
        known = signatures.BY_ID.get(sig)
        out[sig] = {
            "meaning": known.meaning if known else None,
            "fixes": list(known.fixes) if known else [],
            "runs": len(found),
            "cells": sorted({o.record.cell_id for o in found}),
            "releases": [
                [k, [f"{a}–{b}" if a != b else a for a, b, _ in runs]]
                for k, runs in whence.ranges(found, current).items()
            ],
            "remedies": whence.remedy_lines(found, typed, sig, engine) if found else [],
        }
    return out
