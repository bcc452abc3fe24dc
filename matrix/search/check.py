"""Check: where a project's pins stand, from measured records, in a second, building nothing.

``python -m matrix check [path]`` reads the pins of a ``uv.lock``, ``poetry.lock``,
``pdm.lock``, ``requirements*.txt`` or ``pyproject.toml`` (or, with ``--installed``, the
current environment), looks them up in the records (``--from``, else the local results
folder, else the reference dataset shipped in the package) and prints:

1. the measured cell with exactly these pins, each scenario's outcome and signature,
   and what the signatures mean (for a file of ranges: every measured cell within them,
   counted, the worst shown); when no cell matches, the nearest measured evidence and how
   it differs;
2. the remedies measured to work: passing combinations nearest to the pins, and the
   ways of running the same combination (e2e tests last, in their own process) that pass;
3. the smallest fix: the passing combination that changes the fewest axes.

Exact pins that no cell measured are answered by the answer engine
(:mod:`matrix.results.answers`): ``inferred`` from the measured cells around them, with
the evidence and, for each pin that differs, why it is not expected to change the verdict;
``unknown`` when nothing can be said, or ``between`` two measured releases that disagree
(with the ``bisect`` command that settles it). Pins that cannot install together are
``unresolvable``, from the releases snapshot, before any record is read.

Exit code 0 when the pins are good (measured or inferred), 1 when bad (measured or
inferred, or unresolvable), 8 when nothing can be said: a CI gate, like an audit tool.
``--measured-only`` answers from exact matches alone. ``--json`` prints the answer as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from matrix import log
from matrix.define import releases
from matrix.define.cell import ASYNC_PLUGIN, BASELINE, DISTRIBUTIONS, PLUGINS, SYNC_PLUGIN
from matrix.results import answers, model, signatures, sources
from matrix.results.model import BAD_OUTCOMES as BAD_VERDICTS
from matrix.results.model import SEVERITY, ScenarioVerdict
from matrix.results.record import Record
from matrix.search import pins as pins_mod

HELP = "where a project's pins stand, from measured records (no env is built)"
GOOD, BAD, UNKNOWN = answers.GOOD, answers.BAD, answers.UNKNOWN  # 7 is OutputError's
#: The workaround scenarios as advice.
WORKAROUND_WORDS = {name: f"run the e2e tests {how}" for name, how in answers.WORKAROUNDS.items()}
SHOWN = 3  # nearest cells and remedies listed
#: Installed for another pin's sake (coverage under pytest-cov): compared only where a cell
#: asked for it, or every lock file that holds it would differ from every cell.
TRANSITIVE = frozenset({"coverage"})
#: Named by the project, answered by cells with or without it (never "drop it" as a fix):
#: pytest-cov takes no part in the loop conflict (its scenarios answer as the plain ones
#: wherever both were measured).
OPTIONAL = frozenset({"pytest-cov"})


@dataclasses.dataclass(frozen=True)
class Difference:
    """One way a measured cell differs from the pins: ``None`` is "not installed"."""

    key: str
    yours: str | None
    measured: str | None

    def text(self) -> str:
        if self.yours is None:
            return f"add {self.key} {self.measured}"
        if self.measured is None:
            return f"drop {self.key} {self.yours}" if self.key != "python" else "any Python"
        return f"{self.key} {self.yours} -> {self.measured}"


@dataclasses.dataclass(frozen=True)
class Evidence:
    """A measured cell: its scenario verdicts, its verdict, how it differs."""

    cell_id: str
    scenarios: dict[str, ScenarioVerdict]
    verdict: str
    differences: tuple[Difference, ...]
    unlike: int = 0  # optional distributions (pytest-cov) the project names and the cell lacks

    @property
    def changes(self) -> int:
        """How many axes change (the plugin is one axis), +1 for leaving every plugin:
        that means writing the suite's own browser fixtures."""
        keys = {"plugin" if d.key in PLUGINS else d.key for d in self.differences}
        drops_plugin = any(d.key in PLUGINS and d.yours for d in self.differences) and not any(
            d.key in PLUGINS and d.measured for d in self.differences
        )
        return len(keys) + drops_plugin

    def requested(self) -> dict[str, str]:
        return next(iter(self.scenarios.values())).latest.requested


@dataclasses.dataclass(frozen=True)
class Answer:
    """What check says about one set of pins."""

    pins: pins_mod.Pins
    source: sources.Source
    matches: list[Evidence]
    nearest: list[Evidence]
    remedies: list[Evidence]

    @property
    def status(self) -> str:
        decided = [e for e in self.matches if e.verdict in BAD_VERDICTS | {"pass"}]
        if not decided:
            return "unknown"
        return "bad" if any(e.verdict in BAD_VERDICTS for e in decided) else "good"

    @property
    def verdict(self) -> str:
        """The worst verdict of the matching cells, or ``unknown``."""
        if self.status == "unknown":
            return "unknown"
        return min((e.verdict for e in self.matches), key=SEVERITY.index)

    @property
    def exit_code(self) -> int:
        return {"good": GOOD, "bad": BAD}.get(self.status, UNKNOWN)


# --------------------------------------------------------------------------- the model


def by_cell(records: Iterable[Record]) -> dict[str, dict[str, ScenarioVerdict]]:
    """The scenario verdicts of every cell (the results model's); a cell run with a probe
    variant answers for that variant only (the Remedies section), never for the versions."""
    return model.by_cell(model.verdicts(r for r in records if r.variant == BASELINE))


def value(record: Record, key: str) -> str | None:
    """A cell's Python minor, or the installed (else requested) version of ``key``."""
    if key == "python":
        full = record.python or record.requested.get("python") or ""
        return ".".join(full.split(".")[:2]) or None
    return record.resolved.get(key) or record.requested.get(key)


def differences(pins: pins_mod.Pins, record: Record) -> tuple[Difference, ...]:
    """How a measured cell differs from the pins. A distribution counts when the pins name
    it (exactly, or with a range the cell's version must fall in) or the cell asked for it
    (a version the resolver picked for a dependency the project does not name, such as
    coverage under pytest-cov, is not a difference)."""
    python = pins.python or pins.python_range
    mine = dict(pins.versions, **({"python": python} if python else {}))
    mine |= {d: spec or "(any version)" for d, spec in pins.ranges.items()}
    ranged = bool(pins.ranges)  # a file of ranges leaves what it does not name to the resolver
    found = []
    for key in ("python", *DISTRIBUTIONS):
        if key == "python" or key not in record.requested:
            if key not in mine or key in TRANSITIVE or key in OPTIONAL:
                continue
        elif ranged and key not in mine and key not in PLUGINS:
            continue  # the plugin is the project's choice; the rest the resolver's
        theirs = value(record, key)
        same = pins.admits_python(theirs) if key == "python" else pins.admits(key, theirs)
        if not same:
            found.append(Difference(key, mine.get(key), theirs))
    return tuple(found)


def lookup(
    pins: pins_mod.Pins,
    source: sources.Source,
    grouped: dict[str, dict[str, ScenarioVerdict]] | None = None,
) -> Answer:
    """Exact matches, the nearest decided evidence and the remedies, from the records
    (``grouped``: their :func:`by_cell`, when the caller has it already)."""
    grouped = by_cell(source.records) if grouped is None else grouped
    evidence = [
        Evidence(
            cell_id,
            scen,
            model.cell_outcome(scen.values()),
            differences(pins, latest := next(iter(scen.values())).latest),
            sum(
                not pins.admits(d, value(latest, d))
                for d in OPTIONAL
                if d in pins.versions or d in pins.ranges
            ),
        )
        for cell_id, scen in grouped.items()
    ]
    decided = [e for e in evidence if e.verdict in BAD_VERDICTS | {"pass"}]
    matches = [e for e in evidence if not e.differences]
    nearest = sorted((e for e in decided if e.differences), key=_nearness)[:SHOWN]
    passing = sorted((e for e in decided if e.verdict == "pass" and e.differences), key=_nearness)
    return Answer(pins, source, matches, nearest, _one_per_plugin(passing)[:SHOWN])


def _nearness(e: Evidence) -> tuple:
    return (e.changes, len(e.differences), _distance(e), e.unlike, e.cell_id)


def _distance(e: Evidence) -> int:
    """How far the versions move: a major counts 1000, a minor 10, a patch 1 (so 1.1.0 is
    nearer 1.1.1 than 0.21.2); additions, removals and ranges count in ``changes``."""
    total = 0
    for d in e.differences:
        try:
            mine, theirs = Version(d.yours or ""), Version(d.measured or "")
        except InvalidVersion:
            continue
        a, b = (mine.release + (0, 0, 0))[:3], (theirs.release + (0, 0, 0))[:3]
        total += 1000 * abs(a[0] - b[0]) + 10 * abs(a[1] - b[1]) + (a[2] != b[2])
    return total


def _one_per_plugin(ranked: list[Evidence]) -> list[Evidence]:
    """The nearest passing cell of each plugin choice (sync, async, none), nearest first."""
    seen, out = set(), []
    for e in ranked:
        plugin = next((p for p in PLUGINS if p in e.requested()), "none")
        if plugin not in seen:
            seen.add(plugin)
            out.append(e)
    return out


def workarounds(e: Evidence) -> list[str]:
    """Ways of running this very combination that were measured to pass."""
    first = e.scenarios.get("e2e-first")
    if first is None or first.outcome not in BAD_VERDICTS:
        return []
    return [
        f"{WORKAROUND_WORDS.get(name, name)} (the {name} scenario passes here)"
        for name in answers.WORKAROUNDS
        if name in e.scenarios and e.scenarios[name].outcome == "pass"
    ]


def signature_ids(found: Iterable[Evidence]) -> list[str]:
    """The failure signatures of the given cells, worst scenario first, each once."""
    out: dict[str, None] = {}
    for e in found:
        for v in sorted(e.scenarios.values(), key=lambda v: SEVERITY.index(v.outcome)):
            if v.signature and v.outcome in BAD_VERDICTS:
                out[v.signature] = None
    return list(out)


# --------------------------------------------------------------------------- output


def render(answer: Answer) -> str:
    """The answer as text."""
    p = answer.pins
    lines = [
        f"pins ({p.source}): {p.text()}"
        + (f" [Python from {p.python_from}]" if p.python_from else ""),
        f"records: {answer.source.describe()}",
        "",
    ]
    if not p.versions and not p.ranges:
        lines.append(
            "none of the distributions under test is named "
            f"({', '.join(DISTRIBUTIONS)}); check a lock file or --installed"
        )
    if p.ranges and answer.matches:
        mixed = len({e.verdict for e in answer.matches}) > 1
        lines.append(
            f"within these ranges: {_counts(answer.matches)}"
            + ("; the worst first" if mixed else "")
        )
    for e in _worst_first(answer.matches)[: SHOWN if p.ranges else None]:
        lines += [f"measured: {e.verdict}  {e.cell_id}"] + _scenario_lines(e)
        lines += [f"  works here: {w}" for w in workarounds(e)]
    if not answer.matches:
        lines.append(
            "verdict: unknown: no measured cell falls within these ranges"
            if p.ranges
            else "verdict: unknown: no measured cell has exactly these pins"
        )
    if answer.nearest and answer.status == "unknown":
        lines += ["", "nearest measured evidence:"]
        for e in answer.nearest:
            lines.append(f"  {e.verdict:5} {e.cell_id}: differs by {diff_text(e)}")
            lines += ["  " + s for s in _scenario_lines(e) if e.verdict != "pass"]
    shown = answer.matches or answer.nearest[:1]
    lines += _meaning_lines(signature_ids(shown))
    lines += _remedy_lines(answer)
    lines += ["", f"verdict: {answer.verdict} (exit {answer.exit_code})"]
    return "\n".join(lines)


def _counts(found: list[Evidence]) -> str:
    """``12 measured cells: 9 bug, 3 pass``."""
    counts: dict[str, int] = {}
    for e in _worst_first(found):
        counts[e.verdict] = counts.get(e.verdict, 0) + 1
    cells = "cell" if len(found) == 1 else "cells"
    return f"{len(found)} measured {cells}: " + ", ".join(f"{n} {v}" for v, n in counts.items())


def _worst_first(found: list[Evidence]) -> list[Evidence]:
    return sorted(found, key=lambda e: (SEVERITY.index(e.verdict), e.cell_id))


def _scenario_lines(e: Evidence) -> list[str]:
    return [
        f"  {name:14} {v.outcome:14} {v.signature or ''}"
        + (f"  ({v.message})" if v.message and v.message != v.signature else "")
        for name, v in e.scenarios.items()
    ]


def diff_text(e: Evidence) -> str:
    """The differences in words; leaving one plugin for the other reads as one change."""
    diffs = {d.key: d for d in e.differences}
    parts = []
    for d in e.differences:
        other = diffs.get(ASYNC_PLUGIN if d.key == SYNC_PLUGIN else SYNC_PLUGIN)
        if d.key in PLUGINS and other is not None:
            if d.yours:
                parts.append(f"{d.key} {d.yours} -> {other.key} {other.measured}")
        elif d.key in PLUGINS and d.measured is None:
            parts.append(f"{d.text()} (Playwright's async API in the suite's own fixtures)")
        else:
            parts.append(d.text())
    return ", ".join(parts)


def _meaning_lines(ids: list[str]) -> list[str]:
    lines = []
    for sig in ids:
        known = signatures.BY_ID.get(sig)
        if known:
            lines += ["", f"{sig}: {known.meaning}"]
            lines += [f"  known fix: {fix}" for fix in known.fixes]
    return lines


def _remedy_lines(answer: Answer) -> list[str]:
    if not _needs_fix(answer):
        return []
    fix = smallest_fix(answer)
    if fix is not None and not fix.differences:  # within the ranges: pin that one
        return [
            "",
            f"within these ranges, measured to pass: {fix.cell_id}",
            f"smallest fix: pin it: {pins_line(fix)}",
        ]
    if fix is None:
        return ["", "no measured combination near these pins passes every scenario"]
    lines = ["", "remedies measured to work (every scenario passes):"]
    for n, e in enumerate(answer.remedies, 1):
        lines.append(f"  {n}. {diff_text(e)}  [{e.cell_id}]")
    label = (
        "smallest fix"
        if answer.status == "bad"
        else "smallest fix, if these pins behave as the nearest evidence"
    )
    return lines + ["", f"{label}: {diff_text(fix)}", f"  pins to write: {pins_line(fix)}"]


def _needs_fix(answer: Answer) -> bool:
    """Measured bad; or unknown with bad evidence nearest (else nothing shown is broken)."""
    return answer.status == "bad" or (
        answer.status == "unknown" and any(e.verdict in BAD_VERDICTS for e in answer.nearest[:1])
    )


def smallest_fix(answer: Answer) -> Evidence | None:
    """The fix to show for pins measured bad (or unknown, their nearest evidence bad): when
    their ranges admit a combination measured to pass, the newest of those; else the
    nearest passing cell."""
    if not _needs_fix(answer):
        return None
    within = [e for e in answer.matches if e.verdict == "pass"]
    if within:
        return _newest(within)
    return answer.remedies[0] if answer.remedies else None


def _newest(found: list[Evidence]) -> Evidence:
    """The cell with the newest releases (the answer engine's order)."""
    return max(
        found, key=lambda e: (answers.newest_key(answers.axis_values(e.requested())[1]), e.cell_id)
    )


def pins_of(record: Record) -> pins_mod.Pins:
    """A measured cell's own pins, to look up what is near it."""
    requested = {k: v for k, v in record.requested.items() if k in DISTRIBUTIONS}
    return pins_mod.Pins(record.cell_id, requested, value(record, "python"))


def pins_line(e: Evidence) -> str:
    """The measured cell's pins as requirements (its Python named apart)."""
    requested = e.requested()
    text = " ".join(f"{d}=={requested[d]}" for d in DISTRIBUTIONS if d in requested)
    return f"{text} (Python {requested.get('python')})"


def to_json(answer: Answer) -> dict[str, Any]:
    """The answer for machines (``--json``)."""

    def cell(e: Evidence) -> dict[str, Any]:
        return {
            "cell_id": e.cell_id,
            "verdict": e.verdict,
            "requested": e.requested(),
            "differences": [dataclasses.asdict(d) for d in e.differences],
            "scenarios": {
                s: {"outcome": v.outcome, "signature": v.signature, "message": v.message}
                for s, v in e.scenarios.items()
            },
            "workarounds": workarounds(e),
        }

    ids = signature_ids(answer.matches or answer.nearest[:1])
    fix = smallest_fix(answer)
    return {
        "verdict": answer.verdict,
        "status": answer.status,
        "exit_code": answer.exit_code,
        "pins": dataclasses.asdict(answer.pins),
        "source": {
            "where": answer.source.where,
            "kind": answer.source.kind,
            "records": len(answer.source.records),
            "provenance": answer.source.provenance,
        },
        "matches": [cell(e) for e in answer.matches],
        "nearest": [cell(e) for e in answer.nearest],
        "signatures": [
            {
                "id": s,
                "meaning": signatures.BY_ID[s].meaning,
                "fixes": list(signatures.BY_ID[s].fixes),
            }
            for s in ids
            if s in signatures.BY_ID
        ],
        "remedies": [cell(e) for e in answer.remedies],
        "smallest_fix": cell(fix) | {"pins": pins_line(fix)} if fix else None,
    }


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``check`` command's arguments."""
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=Path("."),
        help="a lock, requirements or pyproject.toml file, or a folder holding "
        "one (default: the current folder)",
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="check the distributions installed in this environment instead",
    )
    parser.add_argument(
        "--python",
        help="the project's Python version (default: .python-version beside the file, else any)",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="records to answer from: a results folder, results.jsonl, a "
        "published results.json or its http(s) address, or 'reference' "
        "(default: the local results folder, else the reference dataset)",
    )
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument(
        "--measured-only",
        action="store_true",
        help="answer only from a cell measured with exactly these pins (no "
        "inference): unknown (exit 8) otherwise",
    )


def run(args: argparse.Namespace) -> int:
    """``loop-compat check``: print where the pins stand; exit 0 good, 1 bad, 8 unknown."""
    pins = (
        pins_mod.installed(args.python)
        if args.installed
        else pins_mod.read(args.path, args.python, args.settings.secrets)
    )
    source = sources.load(args.source, None if args.source else args.settings.out)
    found = lookup(pins, source)
    if pins.ranges or not pins.versions:
        log.answer(json.dumps(to_json(found), indent=1) if args.json else render(found))
        return found.exit_code
    answer = engine_answer(
        pins, source, measured_only=args.measured_only, snapshot=args.settings.releases
    )
    log.answer(
        json.dumps(to_json(found) | {"answer": answer.to_json()}, indent=1)
        if args.json
        else render_answer(found, answer)
    )
    return answer.exit_code


def engine_answer(
    pins: pins_mod.Pins,
    source: sources.Source,
    *,
    measured_only: bool = False,
    snapshot: Path = releases.SNAPSHOT_PATH,
) -> answers.Answer:
    """The answer engine's verdict for exact pins (measured, inferred, unknown or
    unresolvable), over the cells of the project's Pythons; declared metadata from the
    releases ``snapshot`` (``MATRIX_RELEASES``; the plugin has the package's)."""
    found = [
        c
        for c in answers.cells(source.records)
        if pins.python or pins.admits_python(c.values.get("python")) or not pins.python_range
    ]
    query = answers.Query.of(pins.versions, pins.python)
    engine = answers.Engine(found, releases.load(snapshot))
    return engine.answer(query, measured_only=measured_only)


def render_answer(found: Answer, answer: answers.Answer) -> str:
    """Exact pins: the measured scenarios where a cell matches, else the engine's
    inference and its evidence; the fix that changes only what matters."""
    p = found.pins
    lines = [
        f"pins ({p.source}): {p.text()}"
        + (f" [Python from {p.python_from}]" if p.python_from else ""),
        f"records: {found.source.describe()}",
        "",
    ]
    if answer.kind == "measured":
        for e in _worst_first(found.matches):
            lines += [f"measured: {e.verdict}  {e.cell_id}"] + _scenario_lines(e)
            lines += [f"  works here: {w}" for w in workarounds(e)]
        lines += _meaning_lines(signature_ids(found.matches))
    else:
        lines += answer.lines()[1:]
        lines += [
            f"  measured nearby: {WORKAROUND_WORDS[name]} passes in {passed} of the "
            f"{ran} evidence cells that ran {name}"
            for name, passed, ran in answer.workarounds()
            if passed
        ]
        if answer.expected_signature:
            lines += _meaning_lines([answer.expected_signature])
    if answer.fix:
        fix = answer.fix
        lines += [
            "",
            f"smallest fix: {fix.text()} ({fix.answer.label} there: "
            f"{', '.join(c.cell_id for c in fix.answer.evidence[: answers.SHOWN])})",
            f"  pins to write: {' '.join(f'{d}=={v}' for d, v in fix.query.pins().items())}"
            + (f" (Python {p.python})" if p.python else ""),
        ]
        lines += [f"  {fix.code_change}"] if fix.code_change else []
        changed = {"plugin" if c[0] == "family" else c[0] for c in fix.changes}
        lines += [
            f"  kept: {r.axis} {r.yours} ({r.text})"
            for r in fix.answer.reasons
            if r.axis not in changed and r.yours not in (None, answers.ABSENT)
        ][:4]
    elif answer.verdict not in ("pass", "unknown", "unresolvable"):
        lines += ["", "no change of the pins that matter is measured or inferred to pass"]
    lines += [
        "",
        f"verdict: {answer.label}"
        + (f": {answer.why}" if answer.why else "")
        + f" (exit {answer.exit_code})",
    ]
    return "\n".join(lines)
