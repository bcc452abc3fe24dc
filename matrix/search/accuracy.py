"""Accuracy: how far the answer engine's inferences can be trusted, measured on the records.

``loop-compat accuracy`` hides each measured cell in turn, infers its verdict from the
others (the axes that matter found anew without it) and prints how many it answered and
how many of those it got right, side by side: an engine that abstains on everything is
never wrong, so neither figure is worth anything alone. Every wrong answer is listed.
Records from ``--from`` (default: the local results folder, else the reference dataset).
Beside them, the engine's reach: of pin sets drawn from the releases snapshot, how many it
answers at all (most pins people have were never measured exactly).
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from matrix import log
from matrix.define import releases
from matrix.results import answers, sources, validation

HELP = "hide each measured cell, infer it from the rest: the share answered and the share right"
#: What ``loop-compat accuracy --help`` says (the docstring above is for developers).
USAGE = """\
How far the answers inferred for unmeasured pins can be trusted, measured on the records.

  loop-compat accuracy [--from SOURCE] [--draws N] [--json]

Each measured cell is hidden in turn and its verdict inferred from the others; the
share of cells answered and the share of those answered right are printed side by side
(one without the other means nothing), and every wrong answer is listed. Then the reach:
N pin sets (default 1,000) drawn at random, with a fixed seed, from the releases snapshot
(a measured Python, each plugin in turn, final releases from the oldest measured on),
and how many of those that declared metadata allows get an answer. Records come from
--from, else the local results folder, else the reference dataset shipped in the package.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``accuracy`` command's arguments."""
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="records to measure on: a results folder, results.jsonl, a "
        "published results.json or its http(s) address, or 'reference' "
        "(default: the local results folder, else the reference dataset)",
    )
    parser.add_argument(
        "--draws",
        type=_count,
        default=1000,
        metavar="N",
        help="pin sets drawn from the releases snapshot for the reach (default 1000; 0: none)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def _count(text: str) -> int:
    """A number of draws: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"give a whole number, 0 or more (not {text!r})")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """``loop-compat accuracy``: print the figures; exit 0 (the figures are the answer)."""
    source = sources.load(args.source, None if args.source else args.settings.out)
    cells = answers.cells(source.records)
    found = validation.validate(cells)
    reach = (
        validation.reach(cells, releases.load(args.settings.releases), draws=args.draws)
        if args.draws > 0
        else None
    )
    if args.json:
        log.answer(
            json.dumps(
                {
                    "cells": found.total,
                    "answered": found.right + len(found.wrong),
                    "right": found.right,
                    "abstained": found.abstained,
                    "answered_share": round(found.answered, 4),
                    "accuracy": round(found.accuracy, 4),
                    "wrong": [
                        {
                            "cell_id": c.cell_id,
                            "measured": c.verdict,
                            "inferred": a.verdict,
                            "evidence": [e.cell_id for e in a.evidence[: answers.SHOWN]],
                        }
                        for c, a in found.wrong
                    ],
                    "reach": dataclasses.asdict(reach) if reach else None,
                },
                indent=1,
            )
        )
    else:
        lines = [f"records: {source.describe()}", *found.lines(), *(reach.lines() if reach else [])]
        log.answer("\n".join(lines))
    return 0
