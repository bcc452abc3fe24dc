"""Bisect's answer as people and programs read it: the text report and the findings line.

:func:`header` and :func:`report` are what ``bisect`` prints: what is searched, every
release's state, what holds across the range, and each change point as ``A -> B`` with its
repro commands. :func:`finding_json` is the line appended to ``bisect.jsonl`` for ``whence``
and the site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from matrix.define import releases
from matrix.define.cell import DISTRIBUTIONS
from matrix.results import findings
from matrix.results.record import Outcome, Record
from matrix.search import bisection, trials
from matrix.search.bisection import Axis, Change, Search
from matrix.search.trials import Observation, describe_pins

SCHEMA = findings.SCHEMAS[findings.BISECT]


def header(
    axis: Axis,
    python: str,
    others: Mapping[str, str],
    wanted: Sequence[str],
    compare: str,
    snapshot: releases.Snapshot | None = None,
) -> str:
    """What is searched, in two lines."""
    left = ""
    if snapshot is not None:
        ends = [
            bisection.hint_at(axis.name, v, python, others, snapshot)
            for v in (axis.versions[0], axis.versions[-1])
        ]
        picked = dict.fromkeys(d for end in ends for d, _ in end)
        left = f"; {', '.join(picked)} left to the resolver" if picked else ""
    key = (
        "each scenario's outcome and the set of signatures its failures show"
        if compare == "set"
        else "each scenario's outcome and first signature"
    )
    return (
        f"bisect {axis.name} from {axis.versions[0]} to {axis.versions[-1]}: "
        f"{len(axis.versions)} releases; {describe_pins(python, others)}{left}\n"
        f"scenarios {', '.join(wanted)}; a cell's key: {key}"
    )


# --------------------------------------------------------------------------- the report


def report(found: Search, axis: Axis, compare: str, *, ran: int, took: float) -> str:
    """The search as text: every release's state, what holds across the whole range, each
    change point as ``A -> B`` with its repro commands."""
    lines = ["", f"releases (from {found.versions[0]} to {found.versions[-1]}):"]
    lines += _release_lines(found, compare)
    lines += [""] + [f"{line}" for line in across(found)]
    lines += ["", f"change points: {len(found.changes) or 'none'}"]
    for number, change in enumerate(found.changes, 1):
        lines += _change_lines(number, change, found, compare)
    if found.stepped:
        lines += ["", "stepped around (could not be measured; a neighbour was tried instead):"]
        lines += [f"  {v}: {why}" for v, why in found.stepped]
    if axis.ruled_out:
        lines += ["", "ruled out by declared metadata (not run):"]
        lines += [f"  {axis.name} {v}: {why}" for v, why in axis.ruled_out]
    if found.gaps:
        lines += ["", "assumed unchanged (both ends agree; the releases between were not run):"]
        lines += [f"  {g.start} .. {g.end} ({g.skipped} not run)" for g in found.gaps]
    reused = sum(1 for o in found.observed.values() if not o.ran)
    total = (
        f"{len(found.observed)} cells measured ({ran} run, {reused} reused from recorded "
        f"results) of the {len(found.versions)} a full grid of this range needs; "
        f"{trials.duration(took)}"
    )
    lines += ["", total]
    return "\n".join(lines)


def across(found: Search) -> list[str]:
    """What each scenario does over the whole range, in plain words: it fails (or passes)
    at every release, or where it starts or stops passing. Good and bad are never
    inferred from the ends: both may fail."""
    usable = [
        found.observed[v]
        for v in found.versions
        if v in found.observed and found.observed[v].unusable is None
    ]
    if not usable:
        return ["no release in the range could be measured"]
    others = len(found.versions) - len(usable)
    assumed = (
        f" at each of the {len(usable)} measured; the other {others} lie between measured "
        "releases that agree"
        if others
        else " at each"
    )
    lines = []
    for scenario in dict.fromkeys(r.scenario for obs in usable for r in obs.records):
        outcomes = [obs.record(scenario).outcome for obs in usable if obs.record(scenario)]
        passes = [o is Outcome.PASS for o in outcomes]
        if all(passes):
            lines.append(f"every release in the range passes {scenario} (pass{assumed})")
        elif not any(passes):
            kinds = " or ".join(dict.fromkeys(o.value for o in outcomes))
            lines.append(f"every release in the range fails {scenario} ({kinds}{assumed})")
        else:
            lines += _pass_changes(found, scenario)
    return lines


def _pass_changes(found: Search, scenario: str) -> list[str]:
    """Where ``scenario`` starts or stops passing, one line per such change point."""
    lines = []
    for change in found.changes:
        before, after = (found.observed[v].record(scenario) for v in (change.last, change.first))
        if before is None or after is None:
            continue
        if (before.outcome is Outcome.PASS) != (after.outcome is Outcome.PASS):
            verb = "passes" if after.outcome is Outcome.PASS else "fails"
            lines.append(
                f"{scenario} {verb} from {change.first} on ({change.last}: "
                f"{before.outcome.value}; {change.first}: {after.outcome.value})"
            )
    return lines


def _release_lines(found: Search, compare: str) -> list[str]:
    lines, pending = [], 0
    for version in found.versions:
        obs = found.observed.get(version)
        if obs is None:
            pending += 1
            continue
        if pending:
            lines.append(f"  {'':14} ({pending} not run)")
            pending = 0
        state = obs.unusable or obs.describe(compare)
        source = "ran" if obs.ran else "recorded"
        lines.append(f"  {version:14} {source:8} {state}{_resolved_note(obs)}")
    if pending:
        lines.append(f"  {'':14} ({pending} not run)")
    return lines


def _resolved_note(obs: Observation) -> str:
    picked = {
        d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS and d not in obs.cell.pin_map
    }
    return (
        f"  [resolver: {', '.join(f'{d} {v}' for d, v in sorted(picked.items()))}]"
        if picked
        else ""
    )


def what_changed(before: Observation, after: Observation, compare: str = "set") -> list[str]:
    """Per scenario whose key differs: ``control fail -> pass`` or ``e2e-first signature
    set {a, b} -> {a, c}`` (both when outcome and signatures move)."""
    old, new = dict(_by_scenario(before, compare)), dict(_by_scenario(after, compare))
    word = "signature set" if compare == "set" else "first signature"
    parts = []
    for scenario in [s for s in new if old.get(s) != new[s]]:
        (o_out, o_sig), (n_out, n_sig) = old.get(scenario, ("not run", ())), new[scenario]
        text = [f"{o_out} -> {n_out}"] if o_out != n_out else []
        if _as_set(o_sig) != _as_set(n_sig):
            text.append(f"{word} {_braces(o_sig)} -> {_braces(n_sig)}")
        parts.append(f"{scenario} {', '.join(text)}")
    return parts


def _as_set(sigs) -> tuple[str, ...]:
    return tuple(s for s in ((sigs,) if isinstance(sigs, str) or sigs is None else sigs) if s)


def _braces(sigs) -> str:
    return "{" + ", ".join(_as_set(sigs)) + "}"


def _change_lines(number: int, change: Change, found: Search, compare: str) -> list[str]:
    before, after = found.observed[change.last], found.observed[change.first]
    lines = [
        f"  {number}. {change.last} -> {change.first}: "
        + "; ".join(what_changed(before, after, compare)),
        f"     {change.last:>12}: {before.describe(compare)}",
        f"     {change.first:>12}: {after.describe(compare)}",
    ]
    if change.unusable:
        lines.append(f"     between them, not measurable: {', '.join(change.unusable)}")
    moved = _resolver_moves(before, after)
    if moved:
        lines.append(f"     the resolver also moved: {moved}")
    for obs in (before, after):
        for record in _differing(before, after, compare, obs):
            lines.append(f"     reproduce: {record.repro}")
    return lines


def _differing(
    before: Observation, after: Observation, compare: str, side: Observation
) -> list[Record]:
    """The records of ``side`` for the scenarios whose key differs between the two cells."""
    old, new = dict(_by_scenario(before, compare)), dict(_by_scenario(after, compare))
    names = [s for s in new if old.get(s) != new[s]] or list(new)
    return [r for r in side.records if r.scenario in names]


def _by_scenario(obs: Observation, compare: str) -> list[tuple[str, tuple]]:
    return [(item[0], item[1:]) for item in obs.key(compare)]


def _resolver_moves(before: Observation, after: Observation) -> str:
    old, new = before.resolved, after.resolved
    moved = [
        f"{d} {old[d]} -> {new[d]}"
        for d in DISTRIBUTIONS
        if d in old
        and d in new
        and old[d] != new[d]
        and d not in before.cell.pin_map
        and d not in after.cell.pin_map
    ]
    return ", ".join(moved)


# --------------------------------------------------------------------------- the findings


def finding_json(
    found: Search,
    axis: Axis,
    python: str,
    others: Mapping[str, str],
    wanted: Sequence[str],
    compare: str,
    *,
    run_id: str,
    started_at: str,
    took: float,
    ran: int,
) -> dict:
    """One line of ``bisect.jsonl``: the search, what holds across it and its change points.
    ``good``/``bad`` and ``last_good``/``first_bad`` name the two ends of the range and of
    each change point (kept for readers of earlier findings); ``from``/``to`` and
    ``before``/``after`` are the same without the judgement."""
    return {
        "schema": SCHEMA,
        "kind": "bisect",
        "run_id": run_id,
        "started_at": started_at,
        "duration_s": round(took, 1),
        "axis": axis.name,
        "python": python,
        "pins": dict(others),
        "scenarios": list(wanted),
        "compare": compare,
        "from": found.versions[0],
        "to": found.versions[-1],
        "good": found.versions[0],
        "bad": found.versions[-1],
        "releases": list(found.versions),
        "across": across(found),
        "measured": [
            _measured_json(v, found.observed[v]) for v in found.versions if v in found.observed
        ],
        "changes": [_change_json(c, found, compare) for c in found.changes],
        "gaps": [dataclasses.asdict(g) for g in found.gaps],
        "stepped": [{"version": v, "reason": why} for v, why in found.stepped],
        "ruled_out": [{"version": v, "reason": why} for v, why in axis.ruled_out],
        "cells_run": ran,
        "cells_measured": len(found.observed),
        "grid_size": len(found.versions),
    }


def _measured_json(version: str, obs: Observation) -> dict:
    return {
        "version": version,
        "cell_id": obs.cell.id,
        "source": "ran" if obs.ran else "recorded",
        "run_ids": list(obs.run_ids),
        "unusable": obs.unusable,
        "scenarios": {
            r.scenario: {
                "outcome": r.outcome.value,
                "signature": r.signature,
                "signatures": list(s),
            }
            for r, s in zip(obs.records, obs.signatures)
        },
        "resolved": {d: v for d, v in obs.resolved.items() if d in DISTRIBUTIONS},
    }


def _change_json(change: Change, found: Search, compare: str) -> dict:
    before, after = found.observed[change.last], found.observed[change.first]
    return {
        "last_good": change.last,
        "first_bad": change.first,
        "unusable": list(change.unusable),
        "from": change.last,
        "to": change.first,
        "what": what_changed(before, after, compare),
        "before": before.describe(compare),
        "after": after.describe(compare),
        "last_good_cell": before.cell.id,
        "first_bad_cell": after.cell.id,
        "repro": [
            r.repro for side in (before, after) for r in _differing(before, after, compare, side)
        ],
    }
