"""Accuracy: how far the answer engine's inferences can be trusted, measured on the records.

``loop-compat accuracy`` hides each measured cell in turn, infers its verdict from the
others (the axes that matter found anew without it) and prints how many it answered and
how many of those it got right, side by side: an engine that abstains on everything is
never wrong, so neither figure is worth anything alone. Every wrong answer is listed.
Records from ``--from`` (default: the local results folder, else the reference dataset).
"""

from __future__ import annotations

import argparse
import json

from matrix import log
from matrix.results import answers, sources, validation

HELP = "hide each measured cell, infer it from the rest: the share answered and the share right"
#: What ``loop-compat accuracy --help`` says (the docstring above is for developers).
USAGE = """\
How far the answers inferred for unmeasured pins can be trusted, measured on the records.

  loop-compat accuracy [--from SOURCE] [--json]

Each measured cell is hidden in turn and its verdict inferred from the others; the
share of cells answered and the share of those answered right are printed side by side
(one without the other means nothing), and every wrong answer is listed. Records come
from --from, else the local results folder, else the reference dataset shipped in the
package.
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
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    """``loop-compat accuracy``: print the figures; exit 0 (the figures are the answer)."""
    source = sources.load(args.source, None if args.source else args.settings.out)
    found = validation.validate(answers.cells(source.records))
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
                },
                indent=1,
            )
        )
    else:
        log.answer("\n".join([f"records: {source.describe()}", *found.lines()]))
    return 0
