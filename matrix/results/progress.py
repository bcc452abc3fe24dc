"""Progress of a run: cells recorded of planned, outcomes so far, time left."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping

from matrix.results import model
from matrix.results.record import Record


def line(planned: Mapping[str, Iterable[str]], records: Iterable[Record], run_id: str) -> str:
    """One line: ``cells 3/10 · bug 4, pass 12 · about 5 min left``.

    ``planned`` maps each cell id to the scenarios it runs; a cell is done when every one
    of them is recorded (a cell cut off halfway is not).
    """
    records = [r for r in records if r.cell_id in planned]
    latest = model.latest(records)
    done = {
        cell
        for cell, wanted in planned.items()
        if all((cell, scenario) in latest for scenario in wanted)
    }
    outcomes = collections.Counter(r.outcome.value for r in latest.values())
    per_cell = collections.defaultdict(float)
    for r in records:
        if r.run_id == run_id:
            per_cell[r.cell_id] += r.duration_s
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "nothing yet"
    text = f"cells {len(done)}/{len(planned)} · {counts}"
    remaining = len(planned) - len(done)
    if per_cell and remaining:
        mean = sum(per_cell.values()) / len(per_cell)
        text += f" · about {_minutes(mean * remaining)} left at this pace"
    return text


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
