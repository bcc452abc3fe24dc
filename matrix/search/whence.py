"""Whence: where an error pasted from a log comes from, according to the recorded results.

``python -m matrix whence "RuntimeError: Runner.run() cannot be called from a running
event loop"`` (or ``-`` to read a whole log from stdin):

1. names the signature: the catalogue entry the text shows (``matrix.results.signatures``), else a
   recorded signature equal to (or containing) one of the text's lines once normalised;
2. lists the recorded combinations that show it, as their first failure or among others
   (read back from the JUnit XML kept beside each log), newest record of each scenario;
3. gives, for each package, the ranges of measured versions where it appears: a range
   is a run of consecutive measured versions that all show it somewhere;
4. adds what ``bisect`` found about where it starts or stops, and the fixes and
   workarounds ``explain`` found for combinations that show it (``bisect.jsonl``,
   ``explain.jsonl`` beside the results).

Exit code 0 when the text is identified (recorded or not), 1 when nothing matches.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from matrix import log
from matrix.define.cell import DISTRIBUTIONS
from matrix.define.versions import version_key
from matrix.errors import ConfigError
from matrix.results import answers, findings, model, remedies, signatures, sources, store
from matrix.results.record import Outcome, Record
from matrix.search import bisect, check, explain, trials
from matrix.search.check import value as version_of

HELP = "name the signature of an error message and list the recorded combinations that show it"
FAILED = frozenset({Outcome.BUG, Outcome.FAIL, Outcome.FLAKY, Outcome.TIMEOUT})
_MEASURED = FAILED | {Outcome.PASS}
MAX_SHOWN = 20  # combinations listed one by one


@dataclasses.dataclass(frozen=True, kw_only=True)
class Match:
    """The signature a text shows, and how it was recognised."""

    signature: str
    how: str  # "catalogue" or "recorded"
    line: str  # the line of the text that carries it
    meaning: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Occurrence:
    """A recorded scenario run that shows the signature."""

    record: Record
    first: bool  # it is the record's own signature (the first failure), not one of the others


def identify(text: str, recorded: Iterable[str] = ()) -> Match | None:
    """The signature ``text`` shows: a catalogue entry, else a recorded signature that one
    of its normalised lines equals or contains (or is contained in); None if neither."""
    lines = [ln.strip().removeprefix("E ").strip() for ln in text.splitlines() if ln.strip()]
    known = signatures.match(text)
    if known:
        line = next((ln for ln in lines if known.pattern.search(ln)), lines[0] if lines else "")
        return Match(signature=known.id, how="catalogue", line=line, meaning=known.meaning)
    sigs = sorted({s for s in recorded if s})
    normal = [(ln, signatures.normalise(ln)) for ln in lines]
    for line, norm in normal:
        if norm in sigs:
            return Match(signature=norm, how="recorded", line=line)
    for line, norm in normal:
        for sig in sigs:
            if min(len(sig), len(norm)) >= signatures.MIN_OVERLAP and (sig in norm or norm in sig):
                return Match(signature=sig, how="recorded", line=line)
    return None


def latest(records: Iterable[Record]) -> list[Record]:
    """The newest record of every (cell, scenario), in file order."""
    return list(model.latest(records).values())


def occurrences(
    signature: str,
    records: Iterable[Record],
    out: Path,
    read: dict[int, tuple[str, ...]] | None = None,
) -> list[Occurrence]:
    """The records (newest per cell and scenario) that show ``signature``. ``read``: the
    signature sets already read from the logs, by record (a caller asking for every
    signature passes one dict, so each JUnit report is read once)."""
    found = []
    known = signatures.BY_ID.get(signature)
    read = {} if read is None else read
    for record in latest(records):
        # a catalogue entry also covers records made before it existed, whose signature is
        # their normalised message
        if record.signature == signature or (
            known is not None
            and record.outcome in FAILED
            and known.pattern.search(record.message or "")
        ):
            found.append(Occurrence(record=record, first=True))
        elif record.outcome in FAILED:
            if id(record) not in read:
                read[id(record)] = trials.signature_set(out, record)
            if signature in read[id(record)]:
                found.append(Occurrence(record=record, first=False))
    return found


def ranges(
    found: Sequence[Occurrence], records: Iterable[Record]
) -> dict[str, list[tuple[str, str, int]]]:
    """Per package: (first, last, versions measured) runs of consecutive measured versions
    that all show the signature; measured means the same scenarios ran there at all."""
    scenario_names = {o.record.scenario for o in found}
    pool = [r for r in latest(records) if r.outcome in _MEASURED and r.scenario in scenario_names]
    out = {}
    for key in ("python", *DISTRIBUTIONS):
        shown = {v for o in found if (v := version_of(o.record, key))}
        measured = {v for r in pool if (v := version_of(r, key))} | shown
        if shown:
            out[key] = _runs(sorted(measured, key=version_key), shown)
    return out


def _runs(ordered: list[str], shown: set[str]) -> list[tuple[str, str, int]]:
    runs, current = [], []
    for version in [*ordered, None]:
        if version in shown:
            current.append(version)
        elif current:
            runs.append((current[0], current[-1], len(current)))
            current = []
    return runs


# --------------------------------------------------------------------------- findings


def bisect_notes(signature: str, found: Iterable[Mapping]) -> list[str]:
    """Where bisect saw the signature appear or disappear along an axis (``found`` as
    :func:`matrix.results.findings.read_findings` gives them, oldest first)."""
    notes: dict[tuple, str] = {}  # the newest bisect's word on each change point
    for point in findings.change_points(found):
        if signature in point["appears"] or signature in point["disappears"]:
            verb = "appears at" if signature in point["appears"] else "disappears at"
            where = trials.describe_pins(point["python"], point["pins"])
            key = (point["axis"], point["last_good"], point["first_bad"], where)
            notes[key] = (
                f"{point['axis']} {point['last_good']} -> {point['first_bad']}: "
                f"it {verb} {point['first_bad']} ({where}; bisect run {point['run_id']})"
            )
    return list(notes.values())


def explain_notes(signature: str, found: Iterable[Mapping], limit: int = 3) -> list[str]:
    """The best fixes and workarounds explain found (newest finding per combination) for
    combinations that show it."""
    notes = []
    for cell_id, fix in findings.smallest_fixes(found).items():
        if signature not in fix["start_signatures"]:
            continue
        notes.append(f"for {cell_id} (explain run {fix['run_id']}):")
        for c in fix["candidates"][:limit]:
            how = f", then {' or '.join(c['how'])}" if c["how"] else ""
            notes.append(
                f"  {c['rank']}. {c['kind']}: {c['summary']}{how}  [evidence: {c['cell_id']}, "
                f"runs {', '.join(c['run_ids'])}]"
            )
        if not fix["candidates"]:
            notes.append("  no fix or workaround found within its budget")
    return notes


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``whence`` command's arguments."""
    parser.add_argument("text", nargs="+", help="the error text (quote it), or - to read stdin")
    parser.add_argument(
        "--from",
        "--results",
        dest="source",
        metavar="SOURCE",
        help="records to search: a results folder, results.jsonl, a published "
        "results.json or its http(s) address, or 'reference' (default: "
        "$MATRIX_OUT or reports when it holds records, else the reference "
        "dataset in the package)",
    )


def run(args: argparse.Namespace) -> int:
    """``python -m matrix whence``: print the signature, where it appears, and known fixes."""
    text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
    if not text.strip():
        raise ConfigError("whence needs the error text; paste it in quotes or pipe it with -.")
    source = sources.load(args.source, None if args.source else args.settings.out)
    records = source.records
    match = identify(text, (r.signature for r in records if r.signature))
    if match is None:
        log.answer(
            f"no catalogue entry or recorded signature matches; normalised, it reads:\n"
            f"  {signatures.normalise(text)}\n(searched {source.describe()})"
        )
        return 1
    folder = _folder(source)
    found = occurrences(match.signature, records, folder)
    log.answer(render(match, found, records, folder, source))
    return 0


def _folder(source: sources.Source) -> Path:
    """Where the findings of bisect and explain would lie beside the records."""
    if source.kind == "reference":
        return sources.REFERENCE
    where = Path(source.where)
    return where.parent if where.suffix else where


def render(
    match: Match,
    found: Sequence[Occurrence],
    records: Sequence[Record],
    folder: Path,
    source: sources.Source | None = None,
) -> str:
    """The whole answer as text."""
    where = source.describe() if source else str(folder / store.RESULTS)
    known = signatures.BY_ID.get(match.signature)
    label = "in the catalogue" if match.how == "catalogue" else "a recorded signature"
    lines = [match.line, f"is {match.signature} ({label})"]
    if match.meaning:
        lines.append(f"  {match.meaning}")
    if known and known.fixes:
        lines += ["known fixes:"] + [f"  {fix}" for fix in known.fixes]
    if not found:
        return "\n".join(lines + [f"\nnot among the {where}"])
    cells = len({o.record.cell_id for o in found})
    runs = "scenario run" if len(found) == 1 else "scenario runs"
    combos = "combination" if cells == 1 else "combinations"
    lines += ["", f"recorded in {len(found)} {runs} of {cells} {combos} ({where}):"]
    lines += _combination_lines(found)
    lines += ["", "where it appears (installed versions; ranges over the versions measured):"]
    for key, runs in ranges(found, records).items():
        shown = ", ".join(f"{a}–{b}" if a != b else a for a, b, _ in runs)
        count = sum(n for *_, n in runs)
        lines.append(f"  {key:26} {shown}   ({count} measured version{'s' if count != 1 else ''})")
    lines += remedy_lines(found, records, match.signature)
    notes = bisect_notes(
        match.signature, findings.read_findings(folder / bisect.FINDINGS, findings.BISECT)[0]
    )
    if notes:
        lines += ["", "where bisect saw it change:"] + [f"  {n}" for n in notes]
    notes = explain_notes(
        match.signature, findings.read_findings(folder / explain.FINDINGS, findings.EXPLAIN)[0]
    )
    if notes:
        lines += ["", "fixes found by explain:"] + [f"  {n}" for n in notes]
    return "\n".join(lines)


def remedy_lines(
    found: Sequence[Occurrence],
    records: Sequence[Record],
    signature: str,
    engine: answers.Engine | None = None,
) -> list[str]:
    """What was measured to work where the signature shows: the other ways of running the
    same combinations, the answer engine's smallest fix for the newest combination that
    shows it, and each variant remedy measured on those combinations
    (``remedies.for_signature``). ``engine``: the engine over ``records``, when the
    caller asks for many signatures (the page) and has one already."""
    engine = engine or answers.Engine(answers.cells(records))
    lines = ["", "remedies measured to work:"]
    hit = {o.record.cell_id for o in found}
    mine = [c for c in engine.found if c.cell_id in hit]
    for scenario, words in check.WORKAROUND_WORDS.items():
        tried = [c for c in mine if scenario in c.scenarios]
        passed = sum(c.scenarios[scenario].outcome == "pass" for c in tried)
        if tried:
            lines.append(
                f"  {words}: passes in {passed} of the {len(tried)} combinations "
                f"that show it and ran {scenario}"
            )
    newest = answers.newest(mine)
    if newest is not None:
        query = answers.Query(family=newest.family, values=dict(newest.values))
        fix = engine.smallest_fix(query)
        if fix is not None:
            lines.append(
                f"  1. from {newest.cell_id}: {fix.text()}  ({fix.answer.label}: "
                f"{', '.join(c.cell_id for c in fix.answer.evidence[:2])})"
            )
    lines += [f"  {line}" for line in remedies.for_signature(signature, records)]
    if len(lines) == 2:
        lines.append("  none measured yet")
    return lines


def _combination_lines(found: Sequence[Occurrence]) -> list[str]:
    cells: dict[str, list[Occurrence]] = {}
    for occ in sorted(
        found,
        key=lambda o: [
            version_key(version_of(o.record, k) or "") for k in ("python", *DISTRIBUTIONS)
        ],
    ):
        cells.setdefault(occ.record.cell_id, []).append(occ)
    lines = []
    for cell_id, occs in list(cells.items())[:MAX_SHOWN]:
        runs = ", ".join(
            f"{o.record.scenario} ({o.record.outcome.value}{'' if o.first else ', not first'})"
            for o in occs
        )
        lines.append(f"  {_pins_text(occs[0].record)}: {runs}")
        lines.append(f"    {cell_id}; reproduce: {occs[0].record.repro}")
    if len(cells) > MAX_SHOWN:
        lines.append(f"  ... and {len(cells) - MAX_SHOWN} more combinations")
    return lines


def _pins_text(record: Record) -> str:
    python = version_of(record, "python") or "?"
    parts = [f"Python {python}"]
    for dist in DISTRIBUTIONS:
        version = record.resolved.get(dist) or record.requested.get(dist)
        if version:
            picked = "" if dist in record.requested else " (resolver)"
            parts.append(f"{dist} {version}{picked}")
    return ", ".join(parts)
