"""Merging results folders (shards, or several runs) into one, without duplicates."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

from matrix import log
from matrix.errors import ConfigError, OutputError
from matrix.results import store
from matrix.results.record import Record


@dataclasses.dataclass(frozen=True, kw_only=True)
class Merged:
    """What a merge did, for the one line it prints."""

    sources: int
    records: int
    duplicates: int
    cells: int
    not_understood: int = 0

    def __str__(self) -> str:
        text = (
            f"merged {self.sources} sources: {self.records} records of {self.cells} cells, "
            f"{self.duplicates} duplicates dropped"
        )
        if self.not_understood:
            text += (
                f", {self.not_understood} records not understood (a newer version's) "
                "kept as they were"
            )
        return text


def merge(sources: list[Path], out: Path) -> Merged:
    """Combine the records, plans and logs of ``sources`` into the folder ``out``.

    Identical records (a shard merged twice, a folder given twice) are kept once; the
    result is sorted so that the same inputs always give the same file. The records
    already in ``out`` are merged too: merging into a folder adds to it. A record this
    version does not understand (a newer schema, an unknown field or outcome) is kept
    byte for byte after the others, never rewritten. No link in a source is followed.
    """
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise ConfigError(
            f"nothing to merge at {', '.join(missing)}; give results folders "
            "or results.jsonl files."
        )
    if (out / store.RESULTS).is_file() and not any(_same(s, out) for s in sources):
        sources = [out, *sources]
    unique: dict[str, Record] = {}
    foreign: dict[str, None] = {}  # lines not understood, in order, each once
    total = 0
    for source in sources:
        records, lines = _read(source)
        total += len(records) + len(lines)
        for record in records:
            unique.setdefault(json.dumps(record.to_json(), sort_keys=True), record)
        foreign.update(dict.fromkeys(lines))
    # Sorted as the results model reads attempts (time, then attempt), so the file reads in
    # the order the page, status and the issues decide by; the JSON breaks the last ties.
    records = [
        unique[k]
        for k in sorted(
            unique,
            key=lambda k: (
                unique[k].cell_id,
                unique[k].scenario,
                unique[k].started_at,
                unique[k].attempt,
                k,
            ),
        )
    ]
    plan = _merged_plan(sources)
    try:
        _copy_logs(sources, out)
        _write(out, records, list(foreign), plan)
    except OSError as exc:
        if exc.errno not in OutputError.ERRNOS:
            raise
        raise OutputError.from_os_error(
            exc,
            f"merging into {out}",
            kept="the results there are left as they were, and no partial copy",
        ) from None
    return Merged(
        sources=len(sources),
        records=len(records) + len(foreign),
        duplicates=total - len(records) - len(foreign),
        cells=len({r.cell_id for r in records}),
        not_understood=len(foreign),
    )


def _read(source: Path) -> tuple[list[Record], list[str]]:
    """The records of a source this version understands, and the lines it does not (kept
    verbatim); lines that are no record at all are warned about and dropped."""
    path = store.own(source, store.RESULTS) if source.is_dir() else source
    if path is None or not path.is_file():
        return [], []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path} cannot be read ({exc.strerror}); make it readable or "
            "leave it out of the merge."
        ) from None
    records: list[Record] = []
    foreign: list[str] = []
    if (items := _published(data)) is not None:
        # a published results.json: an item not understood is kept too, as one line of
        # JSON (the array's own bytes are not lines to keep)
        for number, item in enumerate(items, 1):
            kind, found = store.understand_item(item)
            if kind == "record":
                records.append(found)
            elif kind == "foreign":
                foreign.append(json.dumps(item, sort_keys=True))
            else:
                log.warning(f"{path} item {number} is not a whole record ({found}); skipped")
        return records, foreign
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = None
        kind, item = store.understand(line)
        if kind == "record":
            records.append(item)
        elif kind == "foreign":
            foreign.append(line.rstrip("\r"))
        else:
            log.warning(f"{path} line {number} is not a whole record ({item}); skipped")
    return records, foreign


def _published(data: bytes) -> list | None:
    """The items of a published ``results.json`` (one JSON array), or None for anything
    else: JSON Lines, whose first line may start with ``[`` and is then read line by line
    like :func:`store.parse` does."""
    if not data.lstrip().startswith(b"["):
        return None
    try:
        items = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return items if isinstance(items, list) else None


def _merged_plan(sources: list[Path]) -> dict | None:
    plans = [_plan(p) for s in sources if (p := store.own(_folder(s), "plan.json"))]
    plans = [p for p in plans if p is not None]
    if not plans:
        return None
    cells = {row["cell_id"]: row for p in plans for row in p["cells"]}
    return {**plans[0], "cells": [cells[k] for k in sorted(cells)]}


def _plan(path: Path) -> dict | None:
    """A source's ``plan.json``, checked for the shape merging needs."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(
            f"{path} is not a plan ({type(exc).__name__}); remove it or "
            "replace it with the plan.json the run wrote."
        ) from None
    cells = plan.get("cells", []) if isinstance(plan, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and isinstance(c.get("cell_id"), str) for c in cells
    ):
        raise ConfigError(
            f"{path} is not a plan (a JSON object whose cells each have a "
            "cell_id); remove it or replace it with the plan.json the run wrote."
        )
    return {**plan, "cells": cells}


def _copy_logs(sources: list[Path], out: Path) -> None:
    """Copy every source's ``logs/`` into ``out``, files only: a link (to a file or a
    folder outside, or inside) is skipped with a warning, never followed."""
    for source in sources:
        logs = store.own(_folder(source), "logs")
        if logs is None or not logs.is_dir() or logs.resolve() == (out / "logs").resolve():
            continue
        for folder, dirs, files in os.walk(logs):  # never into a linked folder
            here = Path(folder)
            for name in [*dirs, *files]:
                if (here / name).is_symlink():
                    store.own(here, name)  # the warning
            dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
            for name in sorted(files):
                if not (here / name).is_symlink() and (here / name).is_file():
                    _copy_file(here / name, out / "logs" / (here / name).relative_to(logs))


def _copy_file(source: Path, dest: Path) -> None:
    """Copy beside and rename: a full disk leaves no half-written copy behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.merging-{os.getpid()}")
    try:
        shutil.copyfile(source, tmp, follow_symlinks=False)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _write(out: Path, records: list[Record], foreign: list[str], plan: dict | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: ``out`` may be one of the sources.
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".results-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False) + "\n")
            for line in foreign:
                f.write(line + "\n")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the records from others
        os.replace(tmp, out / store.RESULTS)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if plan is not None:
        _copy_text(out / "plan.json", json.dumps(plan, indent=1, sort_keys=True))


def _copy_text(dest: Path, text: str) -> None:
    tmp = dest.with_name(f".{dest.name}.merging-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _folder(source: Path) -> Path:
    return source if source.is_dir() else source.parent


def _same(source: Path, out: Path) -> bool:
    """Whether a source is the output folder itself (or its results file)."""
    return _folder(source).resolve() == out.resolve()


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set back at once
    os.umask(mask)
    return mask
