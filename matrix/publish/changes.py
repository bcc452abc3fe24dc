"""Changes between runs: this run's scenario verdicts against a previous run's.

The previous run is read by :func:`matrix.results.sources.read_earlier` (a results folder,
``results.jsonl``, a page's ``results.json`` or ``summary.json``); what cannot be read is
one sentence, and the page says it could not compare.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from matrix.errors import EarlierResultsError
from matrix.publish.analysis import clean, frame, scenario_verdicts
from matrix.results import sources
from matrix.results.model import BAD_OUTCOMES, scenario_rank


@dataclasses.dataclass(frozen=True)
class Previous:
    """A previous run's scenario verdicts (cell_id, scenario, outcome, signature)."""

    scenarios: pd.DataFrame
    date: str | None  # the newest started_at of that run
    source: str  # file name it came from


def read_previous(path: Path) -> Previous:
    """A previous run's verdicts from a folder or file holding ``results.jsonl`` (a results
    folder), ``results.json`` or ``summary.json`` (a published site), read by
    :func:`matrix.results.sources.read_earlier`. Raises :class:`EarlierResultsError` for
    anything missing or malformed."""
    earlier = sources.read_earlier(path, summary=True)
    columns = ["cell_id", "scenario", "outcome", "signature"]
    if earlier.verdicts is not None:
        return Previous(
            pd.DataFrame(earlier.verdicts, columns=columns), earlier.date, earlier.source
        )
    if not earlier.records:
        raise EarlierResultsError(f"{earlier.source} holds no readable record")
    verdicts = scenario_verdicts(frame(earlier.records))
    return Previous(verdicts[columns], earlier.date, earlier.source)


def diff(current: pd.DataFrame, previous: Previous) -> dict[str, list[dict[str, Any]]]:
    """Scenario verdicts compared by ``(cell_id, scenario)``: ``regressed`` (passed, now
    bug/fail/timeout/flaky), ``fixed`` (the reverse), ``changed`` (any other change of
    outcome or signature, e.g. bug -> fail or pass -> infra), ``new`` and ``gone``."""
    before, after = _verdict_map(previous.scenarios), _verdict_map(current)
    out: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("regressed", "fixed", "changed", "new", "gone")
    }
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], scenario_rank(k[1]))):
        old, new = before.get(key), after.get(key)
        kind = _change(old, new)
        if kind:
            out[kind].append(
                {
                    "cell_id": key[0],
                    "scenario": key[1],
                    "before": old[0] if old else None,
                    "before_signature": old[1] if old else None,
                    "after": new[0] if new else None,
                    "after_signature": new[1] if new else None,
                }
            )
    return out


def _verdict_map(scenarios: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {
        (r["cell_id"], r["scenario"]): (r["outcome"], clean(r["signature"]))
        for r in scenarios[["cell_id", "scenario", "outcome", "signature"]].to_dict("records")
    }


def _change(old: tuple | None, new: tuple | None) -> str | None:
    if old is None or new is None:
        return "new" if old is None else "gone"
    if old[0] == "pass" and new[0] in BAD_OUTCOMES:
        return "regressed"
    if old[0] in BAD_OUTCOMES and new[0] == "pass":
        return "fixed"
    return "changed" if old != new else None
