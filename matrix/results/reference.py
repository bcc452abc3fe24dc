"""The reference dataset: records of the ``reference`` profile, packed into the package.

``nox -s reference`` runs the profile into a results folder, then :func:`pack` copies its
records into ``matrix/reference/results.jsonl`` with what ties them to the machine taken
out (logs, absolute paths in the repro commands, distributions not under test), and
writes ``provenance.json``: the runs, their dates, the cells measured, the machine
(cores, OS, Python) and the Chromium the browser scenarios launched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matrix.define.cell import DISTRIBUTIONS
from matrix.errors import MatrixError
from matrix.results import model, sources, store
from matrix.results.record import Record

#: ``MATRIX_OUT=/abs/path`` in a repro command: the results folder of the machine that ran it.
_ABSOLUTE_SETTING = re.compile(r"\b[A-Z_]+=/\S*\s+")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def strip(record: Record) -> Record:
    """The record without what ties it to one machine: no log, no absolute path in its
    repro command or message, only the distributions under test in ``resolved``."""

    def clean(text: str | None) -> str | None:
        return None if text is None else _ABSOLUTE_PATH.sub("<path>", text)

    repro = clean(_ABSOLUTE_SETTING.sub("", record.repro))
    resolved = {k: v for k, v in record.resolved.items() if k in DISTRIBUTIONS}
    return dataclasses.replace(
        record,
        log=None,
        repro=repro,
        resolved=resolved,
        message=clean(record.message),
        signature=clean(record.signature),
    )


def provenance(records: Iterable[Record], chromium: str | None) -> dict[str, Any]:
    """Where and when the records were measured."""
    records = list(records)
    latest = model.latest(records)
    cells = {r.cell_id for r in latest.values() if r.outcome.value in ("pass", "bug", "fail")}
    stamps = sorted(r.started_at for r in records if r.started_at)
    return {
        "profile": "reference",
        "run_ids": sorted({r.run_id for r in records}),
        "run_id": max((r.run_id for r in records), default=None),
        "date": stamps[-1][:10] if stamps else None,
        "first_record": stamps[0] if stamps else None,
        "last_record": stamps[-1] if stamps else None,
        "cells": len(cells),
        "cells_recorded": len({r.cell_id for r in records}),
        "records": len(latest),
        "machine": {
            "cores": os.cpu_count(),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
        },
        "chromium": chromium,
        "packed_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def pack(results: Path, dest: Path = sources.REFERENCE, chromium: str | None = None) -> Path:
    """Copy the latest record of every scenario of ``results`` into ``dest`` and write its
    provenance; returns the records file written."""
    # each record keeps the signatures its JUnit XML showed: the logs stay behind
    records = [
        dataclasses.replace(r, signatures=store.failure_signatures(results, r))
        if r.outcome.value not in ("pass",) and r.log
        else r
        for r in model.latest(store.read(results)).values()
    ]
    if not records:
        raise MatrixError(
            f"{results}: no records to pack; run the reference profile first (nox -s reference)."
        )
    dest.mkdir(parents=True, exist_ok=True)
    lines = sorted(
        json.dumps(strip(r).to_json(), sort_keys=True, ensure_ascii=False) for r in records
    )
    target = dest / store.RESULTS
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (dest / sources.PROVENANCE).write_text(
        json.dumps(provenance(records, chromium), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target
