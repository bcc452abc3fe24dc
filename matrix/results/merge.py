"""Merging results folders (shards, or several runs) into one, without duplicates."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

from matrix.results import store
from matrix.errors import ConfigError
from matrix.results.record import Record


@dataclasses.dataclass(frozen=True, kw_only=True)
class Merged:
    """What a merge did, for the one line it prints."""

    sources: int
    records: int
    duplicates: int
    cells: int

    def __str__(self) -> str:
        return (f"merged {self.sources} sources: {self.records} records of {self.cells} cells, "
                f"{self.duplicates} duplicates dropped")


def merge(sources: list[Path], out: Path) -> Merged:
    """Combine the records, plans and logs of ``sources`` into the folder ``out``.

    Identical records (a shard merged twice, a folder given twice) are kept once; the
    result is sorted so that the same inputs always give the same file. The records
    already in ``out`` are merged too: merging into a folder adds to it.
    """
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise ConfigError(f"nothing to merge at {', '.join(missing)}; give results folders "
                          "or results.jsonl files.")
    if (out / store.RESULTS).is_file() and not any(_same(s, out) for s in sources):
        sources = [out, *sources]
    unique: dict[str, Record] = {}
    total = 0
    for source in sources:
        for record in store.read(source):
            total += 1
            unique.setdefault(json.dumps(record.to_json(), sort_keys=True), record)
    # Sorted as the results model reads attempts (time, then attempt), so the file reads in
    # the order the page, status and the issues decide by; the JSON breaks the last ties.
    records = [unique[k] for k in sorted(unique, key=lambda k: (
        unique[k].cell_id, unique[k].scenario, unique[k].started_at, unique[k].attempt, k))]
    plan = _merged_plan(sources)
    _copy_logs(sources, out)
    _write(out, records, plan)
    return Merged(sources=len(sources), records=len(records), duplicates=total - len(records),
                  cells=len({r.cell_id for r in records}))


def _merged_plan(sources: list[Path]) -> dict | None:
    plans = [json.loads(p.read_text()) for s in sources if (p := _folder(s) / "plan.json").exists()]
    if not plans:
        return None
    cells = {row["cell_id"]: row for p in plans for row in p.get("cells", [])}
    return {**plans[0], "cells": [cells[k] for k in sorted(cells)]}


def _copy_logs(sources: list[Path], out: Path) -> None:
    for source in sources:
        logs = _folder(source) / "logs"
        if logs.is_dir() and logs.resolve() != (out / "logs").resolve():
            shutil.copytree(logs, out / "logs", dirs_exist_ok=True)


def _write(out: Path, records: list[Record], plan: dict | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: ``out`` may be one of the sources.
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".results-", suffix=".jsonl")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False) + "\n")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the records from others
    os.replace(tmp, out / store.RESULTS)
    if plan is not None:
        (out / "plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True))


def _folder(source: Path) -> Path:
    return source if source.is_dir() else source.parent


def _same(source: Path, out: Path) -> bool:
    """Whether a source is the output folder itself (or its results file)."""
    return _folder(source).resolve() == out.resolve()


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set back at once
    os.umask(mask)
    return mask
