"""The results folder: ``results.jsonl`` (append-only), logs, and the run's lock.

Every record is appended as one line and flushed to disk as soon as it exists, so an
interrupted run loses nothing; reading skips a line cut mid-write (with a warning that
names it) and keeps every whole record, so the next run simply redoes that scenario.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matrix import log
from matrix.errors import OutputError
from matrix.results import junit
from matrix.results.record import SCHEMA, Outcome, Record

RESULTS = "results.jsonl"


def check_writable(out: Path) -> None:
    """Raise :class:`OutputError` now, before any env is built, if results cannot be written.

    The folder must be a folder (made if missing) that takes a few bytes (a full disk
    fails here), and an existing ``results.jsonl`` must open for appending.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".writable-") as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
        if (out / RESULTS).exists():
            with (out / RESULTS).open("ab"):
                pass
    except OSError as exc:
        raise OutputError.from_os_error(exc, f"checking the results folder {out}") from None


def append(out: Path, record: Record) -> None:
    """Append one record as one line, under an exclusive lock, and flush it to disk."""
    out.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False) + "\n"
    with (out / RESULTS).open("a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            _heal_cut_line(f)
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _heal_cut_line(f) -> None:
    """Start on a fresh line if a previous writer died mid-line."""
    f.seek(0, os.SEEK_END)
    if f.tell() == 0:
        return
    with open(f.name, "rb") as r:
        r.seek(-1, os.SEEK_END)
        if r.read(1) != b"\n":
            f.write("\n")


@contextlib.contextmanager
def cell_lock(out: Path, cell_id: str) -> Iterator[None]:
    """Hold the cell's lock in this results folder while it runs (waiting for another run)."""
    folder = out / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{cell_id}.lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info(f"{cell_id}: another run on {out} is measuring it; waiting")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def own(folder: Path, name: str | Path, *, warn: bool = True) -> Path | None:
    """``folder / name`` if it is there and reached without a link, else None.

    A results folder is published and merged: a link in it (to ``/etc/shadow``, to a home
    folder) must never be read, copied or published, so it is skipped with a warning. The
    folder itself is taken as given: the user named it.
    """
    path = Path(folder)
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            if warn:
                log.warning(
                    f"{path} is a link; links in a results folder are never "
                    "followed, so it is skipped (replace it with the file itself)"
                )
            return None
    return path if path.exists() else None


def read(path: Path, *, warn: bool = True) -> list[Record]:
    """Every whole record of a results file (a folder means its ``results.jsonl``, never
    read through a link)."""
    if path.is_dir():
        path = own(path, RESULTS) or path / RESULTS
        if path.is_symlink():
            return []
    if not path.exists():
        return []
    records, skipped = scan(path)
    if warn:
        for number, exc in skipped:
            log.warning(
                f"{path} line {number} is not a whole record ({exc}); "
                "skipped, and its scenario will be run again"
            )
    return records


def scan(path: Path) -> tuple[list[Record], list[tuple[int, Exception]]]:
    """The whole records of a results file, and (line number, error) for every other line.

    A line cut mid-write (an interrupted run) or otherwise malformed is skipped; every
    whole record is kept, in file order. A published ``results.json`` (one JSON array)
    is read too, its items numbered from 1.
    """
    return parse(path.read_text(encoding="utf-8", errors="replace"))


def parse(text: str) -> tuple[list[Record], list[tuple[int, Exception]]]:
    """Records from the text of a results file: one JSON array of records (what the site
    publishes as ``results.json``), else JSON Lines (a file whose first line merely starts
    with ``[`` is read line by line)."""
    if text.lstrip().startswith("["):
        items = _json(text)
        if isinstance(items, list):
            return _records(enumerate(items, 1))
    # Only "\n" ends a line: a record may hold other line separators (U+2028) in its text.
    lines = ((n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip())
    return _records((n, _json(line)) for n, line in lines)


def _json(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        return exc


def _records(items) -> tuple[list[Record], list[tuple[int, Exception]]]:
    records: list[Record] = []
    skipped: list[tuple[int, Exception]] = []
    for number, data in items:
        try:
            if isinstance(data, Exception):
                raise data
            if not isinstance(data, dict):
                raise TypeError("a JSON object was expected")
            records.append(Record.from_json(data))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            skipped.append((number, exc))
    return records, skipped


#: The fields this version writes: a record with any other was written by a newer one.
KNOWN_FIELDS = frozenset(f.name for f in dataclasses.fields(Record))


def understand(line: str | None) -> tuple[str, Any]:
    """What one line of a results file is to this version: ``("record", Record)``,
    ``("foreign", None)`` for a record it does not understand (a newer schema, an unknown
    field or outcome: to be kept as it is, never rewritten), or ``("bad", reason)``."""
    if line is None:
        return "bad", "not UTF-8"
    return understand_item(_json(line))


def understand_item(data: Any) -> tuple[str, Any]:
    """:func:`understand` for one parsed item (a line's JSON, or an item of a published
    ``results.json``; an Exception for one that did not parse)."""
    if isinstance(data, Exception):
        return "bad", data
    if not isinstance(data, dict):
        return "bad", "a JSON object was expected"
    if _foreign(data):
        return "foreign", None
    try:
        return "record", Record.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return "bad", exc


def _foreign(data: dict[str, Any]) -> bool:
    """Whether a JSON object is a record of a newer version: it names a cell, a scenario
    and an outcome, and has a newer schema, a field or an outcome this version lacks."""
    if not all(isinstance(data.get(k), str) for k in ("cell_id", "scenario", "outcome")):
        return False
    schema = data.get("schema", SCHEMA)
    newer = isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA
    unknown_outcome = data["outcome"] not in {o.value for o in Outcome}
    return newer or unknown_outcome or bool(data.keys() - KNOWN_FIELDS)


def failure_signatures(out: Path, record: Record) -> tuple[str, ...]:
    """Every distinct failure signature of a scenario run: the record's own first, then the
    others in JUnit order, read from the XML kept beside its log (the record's own list
    where it carries one, just its signature with neither)."""
    found = [record.signature] if record.signature else []
    unusable = (Outcome.PASS, Outcome.UNRESOLVABLE, Outcome.NO_INTERPRETER, Outcome.INFRA)
    reports = []
    if record.log and record.outcome not in unusable:
        log_file = out / record.log
        reports = sorted(log_file.parent.glob(f"{log_file.stem}.junit-*.xml"))
    if not reports:
        return tuple(dict.fromkeys([*found, *record.signatures]))
    for report in reports:
        parsed = junit.read(report)
        found += [f.signature for f in parsed[1]] if parsed else []
    return tuple(dict.fromkeys(found))
