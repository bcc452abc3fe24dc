"""Explain's answer as people and programs read it: the text report and the findings line.

:func:`report` is what ``explain`` prints: the listed fixes and workarounds, each with what
it needs, its evidence and the command that reproduces it, then what else was considered.
:func:`finding_json` is the line appended to ``explain.jsonl`` for ``whence`` and the site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from matrix.define import scenarios
from matrix.results import findings
from matrix.search import trials
from matrix.search.explanation import (
    DEFAULT_SCENARIOS,
    MECHANISM,
    WAYS,
    WORKAROUND_NEEDS,
    Explanation,
    Trial,
    sync_conflict,
)

SCHEMA = findings.SCHEMAS[findings.EXPLAIN]  # of a findings line


# --------------------------------------------------------------------------- the report


def report(result: Explanation, *, took: float = 0.0) -> str:
    """The listed fixes and workarounds, each with what it needs and its evidence, then
    what else was considered and why the search stopped."""
    lines = [
        "",
        f"start {result.start.candidate.cell.id} ({result.start.source}):",
        f"  {_state(result.start)}",
    ]
    if result.start.verdict == "fix":
        return "\n".join(lines + ["", "every scenario passes already: nothing to change"])
    listed = result.listed()
    groups = [
        (
            "fixes with no code change (every scenario passes), smallest first:",
            [t for t in listed if t.verdict == "fix" and t.candidate.needs is None],
        ),
        (
            "fixes that need code changes (every scenario passes), smallest first:",
            [t for t in listed if t.verdict == "fix" and t.candidate.needs is not None],
        ),
        (
            "workarounds (the suite passes only if its e2e tests run last or in their own "
            "pytest process):",
            [t for t in listed if t.verdict == "workaround"],
        ),
    ]
    if not groups[0][1]:
        lines += ["", _no_plain_fix(result)]
    number = 0
    for title, found in groups:
        if found:
            lines += ["", title]
        for trial in found:
            number += 1
            lines += _candidate_lines(number, trial)
    if not listed:
        lines += ["", "fixes: none found within the budget"]
    hidden = len(result.ranked("workaround")) - len(groups[2][1])
    if hidden:
        lines.append(
            f"  ({hidden} more workaround{'s' if hidden != 1 else ''} not listed: a "
            "listed result needs a subset of their changes)"
        )
    lines += _rest_lines(result)
    counts = {
        s: sum(t.source == s for t in result.trials)
        for s in ("recorded", "ruled out", "not needed", "not tried")
    }
    lines += [
        "",
        f"{len(result.trials)} changes considered: {result.ran} cells run (budget "
        f"{result.budget}), {counts['recorded']} from recorded results, "
        f"{counts['ruled out']} ruled out, {counts['not needed']} not needed, "
        f"{counts['not tried']} not tried; stopped: {result.stopped}; "
        f"{trials.duration(took)}",
    ]
    return "\n".join(lines)


def _no_plain_fix(result: Explanation) -> str:
    blocked = sum(1 for t in result.trials if t.reason and t.reason.startswith(MECHANISM))
    if sync_conflict(result.start):
        return (
            "fixes with no code change: none can exist here: every change that "
            f"{MECHANISM} ({blocked} such changes ruled out without a run)"
        )
    return "fixes with no code change: none found"


def _state(trial: Trial) -> str:
    obs = trial.observation
    if obs is None:
        return trial.reason or trial.source
    return obs.unusable or obs.describe()


def _brief(trial: Trial) -> str:
    """Outcomes per scenario, then the distinct signatures once: a line, not a paragraph."""
    obs = trial.observation
    if obs is None or obs.unusable:
        return _state(trial)
    outcomes = ", ".join(f"{r.scenario} {r.outcome.value}" for r in obs.records)
    sigs = list(dict.fromkeys(s for group in obs.signatures for s in group))
    return outcomes + (f" ({'; '.join(sigs)})" if sigs else "")


def _how(trial: Trial) -> str:
    if trial.verdict != "workaround":
        return ""
    return ", then run the e2e tests " + " or ".join(dict.fromkeys(WAYS[w] for w in trial.ways))


def _candidate_lines(number: int, trial: Trial) -> list[str]:
    c, obs = trial.candidate, trial.observation
    how = _how(trial)
    size = f"{c.size} change{'s' if c.size != 1 else ''}" + (" + how the tests run" if how else "")
    lines = [f"  {number}. {c.text if c.steps else 'keep every pin'}{how}  [{size}]"]
    needs = [n for n in (c.needs, WORKAROUND_NEEDS if how else None) if n]
    lines += [f"     {n}" for n in needs]
    lines += [
        f"     evidence: {c.cell.id} ({trial.source}; run {', '.join(obs.run_ids)})",
        f"       {obs.describe()}",
    ]
    missing = [
        s.name for s in scenarios.for_cell(c.cell, DEFAULT_SCENARIOS) if obs.record(s.name) is None
    ]
    if missing and trial.source == "recorded":
        lines.append(f"       not recorded: {', '.join(missing)}")
    key = next((obs.record(s) for s in ("e2e-first", *WAYS) if obs.record(s)), obs.records[0])
    lines.append(f"     reproduce: {key.repro}")
    return lines


def _rest_lines(result: Explanation) -> list[str]:
    groups = {
        "fails": "still failing",
        "incomplete": "recorded without e2e-first",
        "unusable": "could not be measured",
        "ruled out": "ruled out (not run)",
        "not needed": "not needed (the answer is known without them)",
        "not tried": "not tried (budget)",
    }
    lines = []
    for verdict, title in groups.items():
        found = [t for t in result.trials if t.verdict == verdict]
        if not found:
            continue
        lines += ["", f"{title}:"]
        if verdict in ("fails", "incomplete", "unusable"):
            lines += [f"  {t.candidate.text}: {_brief(t)}" for t in found]
            continue
        for reason in dict.fromkeys(t.reason or "" for t in found):
            texts = [t.candidate.text for t in found if (t.reason or "") == reason]
            lines.append(
                f"  {'; '.join(texts) if len(texts) < 3 else f'{len(texts)} changes'}"
                f"{': ' + reason if reason else ''}"
            )
            if len(texts) >= 3:
                lines += [f"    {text}" for text in texts]
    return lines


# --------------------------------------------------------------------------- the findings


def finding_json(
    result: Explanation, wanted: Sequence[str], *, run_id: str, started_at: str, took: float
) -> dict:
    """One line of ``explain.jsonl``: the start and the listed candidates (fixes with no code
    change, fixes that need code changes, workarounds), for whence and the site."""
    start = result.start
    listed = result.listed()
    return {
        "schema": SCHEMA,
        "kind": "explain",
        "run_id": run_id,
        "started_at": started_at,
        "duration_s": round(took, 1),
        "scenarios": list(wanted),
        "budget": result.budget,
        "cells_run": result.ran,
        "stopped": result.stopped,
        "start": {**_trial_json(start), "signatures": _signatures(start)},
        "candidates": [{"rank": n, **_trial_json(t)} for n, t in enumerate(listed, 1)],
        "tried": [_trial_json(t) for t in result.trials if t not in listed],
    }


def _trial_json(trial: Trial) -> dict:
    obs = trial.observation
    return {
        "kind": trial.verdict,
        "size": trial.candidate.size,
        "summary": trial.candidate.text,
        "how": (
            list(dict.fromkeys(f"run the e2e tests {WAYS[w]}" for w in trial.ways))
            if trial.verdict == "workaround"
            else []
        ),
        "needs": trial.candidate.needs,
        "changes": [dataclasses.asdict(s) for s in trial.candidate.steps],
        "cell_id": trial.candidate.cell.id,
        "requested": trial.candidate.cell.requested,
        "source": trial.source,
        "reason": trial.reason or (obs.unusable if obs else None),
        "run_ids": list(obs.run_ids) if obs else [],
        "scenarios": {
            r.scenario: {
                "outcome": r.outcome.value,
                "signature": r.signature,
                "signatures": list(sigs),
                "repro": r.repro,
            }
            for r, sigs in zip(obs.records, obs.signatures)
        }
        if obs
        else {},
    }


def _signatures(trial: Trial) -> list[str]:
    obs = trial.observation
    return list(dict.fromkeys(s for sigs in (obs.signatures if obs else ()) for s in sigs))
