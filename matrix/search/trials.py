"""The cell bench shared by ``bisect`` and ``explain``: a search target, measuring a cell
or reusing its records, and the findings files.

A target is a cell id or ``key=version`` pins (:func:`parse_target`). :class:`Bench`
answers a cell from recorded results when every wanted scenario is recorded from the same
inputs, and otherwise runs it with :func:`matrix.measure.runner.run_cell`, so it is
recorded like any other in ``results.jsonl``. The cells searched are also listed in
``<results>/searched.toml`` (a definition with profile ``searched``) so that each
record's repro command names a cell nox knows. Findings of a search are appended to a
JSON Lines file beside the results (``bisect.jsonl``, ``explain.jsonl``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from matrix import log
from matrix.define import scenarios, variants
from matrix.define.cell import ASYNC_PLUGIN, BASELINE, DISTRIBUTIONS, SYNC_PLUGIN, Cell
from matrix.errors import ConfigError
from matrix.measure import runner
from matrix.results import store
from matrix.results.record import Outcome, Record

SEARCHED = "searched.toml"
SEARCHED_PROFILE = "searched"
#: The scenarios each search judges by, unless told otherwise.
BISECT_SCENARIOS = ("control", "e2e-first")
EXPLAIN_SCENARIOS = ("control", "e2e-first", "e2e-first-cov", "e2e-last", "isolated")
#: Outcomes that say nothing about the combination's behaviour: stepped around.
UNUSABLE = frozenset({Outcome.UNRESOLVABLE, Outcome.NO_INTERPRETER, Outcome.INFRA})
#: Scenario lists that other commands run, whose records are reused (see ``Bench``).
KNOWN_LISTS: tuple[tuple[str, ...], ...] = (
    scenarios.NAMES,
    BISECT_SCENARIOS,
    EXPLAIN_SCENARIOS,
    *((name,) for name in scenarios.NAMES),
)
_PREFIXES = sorted(
    ((short, dist) for dist, short in DISTRIBUTIONS.items()), key=lambda p: -len(p[0])
)  # "asyncio" before "async", "coverage" before "cov"
_PYTHON = re.compile(r"^3\.\d+$")


# --------------------------------------------------------------------------- the target


def parse_target(
    words: Sequence[str], *, need_python: bool = True, suite: str = ""
) -> tuple[str, dict[str, str]]:
    """(python, pins) from a cell id or from ``key=version`` words; ConfigError if malformed.

    ``suite`` is the name of the user's suite in force: its cell ids start with it.
    """
    if len(words) == 1 and "=" not in words[0]:
        python, pins = _from_cell_id(_without_suite(words[0], suite))
    else:
        python, pins = _from_pins(words)
    if need_python and not python:
        raise ConfigError("the cell names no Python; add python=3.X (e.g. python=3.13).")
    if SYNC_PLUGIN in pins and ASYNC_PLUGIN in pins:
        raise ConfigError(
            "pytest-playwright and pytest-playwright-asyncio cannot be pinned "
            "together; a suite uses one of them."
        )
    return python, pins


def _without_suite(text: str, suite: str) -> str:
    """A suite's cell id without the suite's name in front (other ids as they are)."""
    prefix = Cell.make("", {}, suite=suite).id + "-" if suite else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def _from_pins(words: Sequence[str]) -> tuple[str, dict[str, str]]:
    python, pins = "", {}
    for word in words:
        key, sep, value = word.partition("=")
        value = value.lstrip("=").strip()
        key = "python" if key.strip().lower() == "python" else canonicalize_name(key.strip())
        if not sep or not value:
            raise ConfigError(
                f"'{word}' is not a pin; write key=version, e.g. pytest-asyncio=1.2.0."
            )
        if key == "python":
            python = _python(value)
        elif key in DISTRIBUTIONS:
            pins[key] = _version(key, value)
        else:
            raise ConfigError(
                f"unknown distribution '{key}' in '{word}'; the matrix knows: "
                f"python, {', '.join(DISTRIBUTIONS)}."
            )
    return python, pins


def _from_cell_id(text: str) -> tuple[str, dict[str, str]]:
    python, pins = "", {}
    for part in text.split("-"):
        if re.match(r"^py3\.\d+$", part) and not python and not pins:
            python = part[2:]
            continue
        found = next(
            ((s, d) for s, d in _PREFIXES if part.startswith(s) and part[len(s) :][:1].isdigit()),
            None,
        )
        if found is None:
            raise ConfigError(
                f"'{text}' is neither a cell id (like py3.13-asyncio1.2.0-sync0.7.1, "
                "or the suite's name then that) nor pins (like python=3.13 "
                "pytest-asyncio=1.2.0)."
            )
        short, dist = found
        pins[dist] = _version(dist, part[len(short) :])
    return python, pins


def _python(value: str) -> str:
    if not _PYTHON.match(value):
        raise ConfigError(f"python={value} is not a Python minor version; write e.g. python=3.13.")
    return value


def _version(dist: str, value: str) -> str:
    try:
        Version(value)
    except InvalidVersion:
        raise ConfigError(
            f"{dist}={value} is not an exact version; write e.g. {dist}=1.2.0."
        ) from None
    return value


def describe_pins(python: str, pins: Mapping[str, str]) -> str:
    """``Python 3.13, pytest-playwright 0.7.1, ...`` as people read it."""
    parts = [f"Python {python}"] if python else []
    return ", ".join(parts + [f"{d} {v}" for d, v in Cell.make(python, dict(pins)).pins])


# --------------------------------------------------------------------------- observations


@dataclasses.dataclass(frozen=True, kw_only=True)
class Observation:
    """What one cell showed: its latest record per scenario and each one's signature set."""

    cell: Cell
    records: tuple[Record, ...]
    signatures: tuple[tuple[str, ...], ...]  # per record: distinct signatures, its own first
    ran: bool = False  # False when every scenario came from recorded results

    def record(self, scenario: str) -> Record | None:
        """The record of ``scenario``, if it was run."""
        return next((r for r in self.records if r.scenario == scenario), None)

    @property
    def unusable(self) -> str | None:
        """Why this cell says nothing about behaviour (unresolvable, not installable...),
        or None."""
        for r in self.records:
            if r.outcome in UNUSABLE or (r.signature or "").startswith("install: "):
                return f"{r.outcome.value}: {r.message or r.signature}"
        return None if self.records else "no scenario was run"

    def key(self, compare: str = "set") -> tuple:
        """Per scenario: outcome and the signature set (or the first signature only)."""
        if compare == "primary":
            return tuple((r.scenario, r.outcome.value, r.signature) for r in self.records)
        return tuple(
            (r.scenario, r.outcome.value, tuple(sorted(s)))
            for r, s in zip(self.records, self.signatures)
        )

    def describe(self, compare: str = "set") -> str:
        """``control pass; e2e-first bug {loop-another-running, ...}``."""
        parts = []
        for r, sigs in zip(self.records, self.signatures):
            shown = ([r.signature] if r.signature else []) if compare == "primary" else list(sigs)
            parts.append(
                f"{r.scenario} {r.outcome.value}" + (f" {{{', '.join(shown)}}}" if shown else "")
            )
        return "; ".join(parts)

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.run_id for r in self.records))

    @property
    def resolved(self) -> dict[str, str]:
        """Versions installed in the cell's env (empty when it could not be resolved)."""
        return next((dict(r.resolved) for r in self.records if r.resolved), {})


def signature_set(out: Path, record: Record) -> tuple[str, ...]:
    """Every distinct failure signature of a scenario run (:func:`store.failure_signatures`)."""
    return store.failure_signatures(out, record)


def observe(cell: Cell, records: Sequence[Record], out: Path, *, ran: bool) -> Observation:
    """An observation from a cell's records (one per scenario, in run order)."""
    return Observation(
        cell=cell,
        records=tuple(records),
        ran=ran,
        signatures=tuple(signature_set(out, r) for r in records),
    )


# --------------------------------------------------------------------------- the bench


class Bench:
    """Measures cells for bisect and explain: recorded results first, ``run_cell`` otherwise.

    A record is reused when its cell id matches and its fingerprint is the one
    :func:`runner.fingerprint` gives for the scenario list of this search or of another
    command's usual run (``KNOWN_LISTS``): then its probe code and snapshot are the same.
    A cell recorded under another snapshot is resolved again, and its records are carried
    over without a run when it resolves to the same installation (see
    :func:`runner.carried`). ``infra`` records are never reused. ``ran`` counts the cells
    that had to be run.
    """

    def __init__(
        self,
        opts: runner.RunOptions,
        wanted: Sequence[str],
        *,
        fresh: bool = False,
        say: Callable[[str], None] | None = None,
        variant: str = BASELINE,
    ) -> None:
        self.opts, self.wanted, self.fresh = opts, tuple(wanted), fresh
        self.variant = variants.named(variant).name  # an unknown name stops here (exit 2)
        self.say = say or log.info
        self.ran = 0
        self._records: dict[str, list[Record]] = {}
        self._prints: dict[tuple[str, tuple[str, ...]], set[str]] = {}  # hashing probes is slow
        self._reload()

    def _reload(self) -> None:
        self._records.clear()
        for record in store.read(self.opts.out, warn=False):
            self._records.setdefault(record.cell_id, []).append(record)

    def own(self, cell: Cell) -> Cell:
        """The cell as this search runs it: on the user's suite when one is in force, with
        the search's variant wherever that variant applies (a switch of plugin drops it)."""
        suite = self.opts.suite.key if self.opts.suite else ""
        cell = cell if cell.suite == suite else dataclasses.replace(cell, suite=suite)
        varied = dataclasses.replace(cell, variant=self.variant)
        return varied if variants.named(self.variant).cannot_apply(varied) is None else cell

    def check(self, cell: Cell) -> None:
        """Stop (exit code 2) when the search's variant cannot apply to the cell asked for."""
        varied = dataclasses.replace(cell, variant=self.variant)
        reason = variants.named(self.variant).cannot_apply(varied)
        if reason:
            raise ConfigError(f"{reason}; the target {cell.id} cannot be searched with it.")

    def recorded_cells(self) -> list[Cell]:
        """Every cell of this search's kind (probe, or the suite in force) with records."""
        cells = []
        for cell_id, records in self._records.items():
            requested = dict(records[-1].requested)
            python = requested.pop("python", "") or ""
            cell = self.own(
                Cell.make(python, {d: v for d, v in requested.items() if d in DISTRIBUTIONS})
            )
            if cell.id == cell_id:  # another suite's cell (or an odd record) is not ours
                cells.append(cell)
        return cells

    def chosen(self, cell: Cell) -> list[scenarios.Scenario]:
        """The scenarios of this search that make sense for ``cell``."""
        return scenarios.for_cell(cell, self.wanted, self.opts.suite)

    def lookup(self, cell: Cell, *, partial: bool = False) -> Observation | None:
        """The cell from recorded results only; None unless every scenario is recorded
        (``partial``: whatever scenarios are recorded, None if none is)."""
        if self.fresh:
            return None
        cell = self.own(cell)
        chosen = self.chosen(cell)
        found = self._recorded(cell, chosen)
        if not found or (len(found) < len(chosen) and not partial):
            return None
        return observe(
            cell, [found[s.name] for s in chosen if s.name in found], self.opts.out, ran=False
        )

    def measure(self, cell: Cell) -> Observation:
        """The cell, from recorded results when complete, else run (and recorded)."""
        known = self.lookup(cell)
        return known if known is not None else self.run(self.own(cell))

    def run(self, cell: Cell) -> Observation:
        """Run the scenarios of ``cell`` not recorded yet; every record is appended."""
        cell = self.own(cell)
        chosen = self.chosen(cell)
        remember(self.opts.out, cell, self.opts)
        with store.cell_lock(self.opts.out, cell.id):
            self._reload()  # another run may have measured it while we waited
            have = {} if self.fresh else self._recorded(cell, chosen)
            todo = [s.name for s in chosen if s.name not in have]
            new = []
            if todo:
                started = time.monotonic()
                earlier = [] if self.fresh else [r for rs in self._records.values() for r in rs]
                new = runner.run_cell(cell, chosen, self.opts, frozenset(have), previous=earlier)
                have.update({r.scenario: r for r in new})
                ran = any(not r.carried_over for r in new)
                self.ran += ran
                self.say(
                    f"{'ran' if ran else 'carried over'} {cell.id} "
                    f"({', '.join(todo)}) in {time.monotonic() - started:.0f} s"
                )
        return observe(
            cell,
            [have[s.name] for s in chosen if s.name in have],
            self.opts.out,
            ran=any(not r.carried_over for r in new),
        )

    def _recorded(self, cell: Cell, chosen: list[scenarios.Scenario]) -> dict[str, Record]:
        mine = [r for r in self._records.get(cell.id, ()) if r.outcome is not Outcome.INFRA]
        if not mine:
            return {}
        prints = self._fingerprints(cell, [s.name for s in chosen])
        latest = {r.scenario: r for r in mine if r.fingerprint in prints}
        return {s.name: latest[s.name] for s in chosen if s.name in latest}

    def _fingerprints(self, cell: Cell, names: list[str]) -> set[str]:
        key = (cell.id, tuple(names))
        if key not in self._prints:
            lists = {tuple(names)} | {
                tuple(s.name for s in scenarios.for_cell(cell, w, self.opts.suite))
                for w in KNOWN_LISTS
            }
            self._prints[key] = {runner.fingerprint(cell, list(lst), self.opts) for lst in lists}
        return self._prints[key]


def searched_options(base: runner.RunOptions) -> runner.RunOptions:
    """``base`` (the CLI's run options: results folder, run id, snapshot time, suite) with
    repro commands that work for searched cells: they name ``searched.toml``."""
    prefix = base.settings.repro_prefix((base.out / SEARCHED, SEARCHED_PROFILE))
    return dataclasses.replace(base, repro_prefix=prefix)


def remember(out: Path, cell: Cell, opts: runner.RunOptions) -> None:
    """Add ``cell`` to ``<out>/searched.toml`` so that its records' repro commands work:
    ``nox -s 'cell(<id>)'`` only knows cells of the definition in force."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SEARCHED
    with _locked(out / ".searched.lock"):
        cells = _searched_cells(path)
        row = cell.requested | ({"variants": [cell.variant]} if cell.variant != BASELINE else {})
        if row in cells:
            return
        cells.append(row)
        text = _searched_text(cells, opts)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        yield


def _searched_cells(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [dict(c) for c in data.get("profiles", {}).get(SEARCHED_PROFILE, {}).get("cell", [])]


def _searched_text(cells: list[dict[str, str]], opts: runner.RunOptions) -> str:
    lines = [
        "# Cells measured by `python -m matrix bisect` and `explain`, kept so that the repro",
        "# command of each of their records works:",
        f"#   MATRIX_CONFIG=<this file> MATRIX_PROFILE={SEARCHED_PROFILE} nox -s 'cell(<id>)'",
        f"[profiles.{SEARCHED_PROFILE}]",
        'description = "cells measured by bisect and explain"',
        f"timeout = {opts.timeout:g}",
        f"reruns = {opts.reruns}",
    ]
    if opts.suite is not None:
        lines.append(f"suite = {json.dumps(str(opts.suite.root))}")
    lines.append("")
    for cell in cells:
        lines.append(f"[[profiles.{SEARCHED_PROFILE}.cell]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in cell.items()] + [""]
    return "\n".join(lines)


def run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options for running cells, shared with ``explain``."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="seconds per pytest process (default %(default)g)",
    )
    parser.add_argument(
        "--reruns",
        type=int,
        default=1,
        help="reruns of a failing scenario to tell flaky from real (default %(default)s)",
    )
    parser.add_argument("--fresh", action="store_true", help="run cells even if already recorded")
    parser.add_argument(
        "--variant",
        default=BASELINE,
        help="run the cells with this variant of the probe (a name from the variants "
        "catalogue, such as nest-asyncio; default %(default)s)",
    )


def duration(seconds: float) -> str:
    """``3 min 0 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def now() -> str:
    """The current UTC time as records write it."""
    return (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )
