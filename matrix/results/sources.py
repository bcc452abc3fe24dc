"""Where the answers of ``check`` and ``whence`` come from, without running anything.

In order: the records named with ``--from`` (a results folder, a ``results.jsonl``, a
published ``results.json``, or its ``http(s)`` address), else the local results folder
when it holds records, else the reference dataset shipped inside the package
(``matrix/reference/``: records the product measured itself, with their provenance).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from matrix import fetch, log
from matrix.errors import ConfigError, EarlierResultsError
from matrix.results import store
from matrix.results.record import Record

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
PROVENANCE = "provenance.json"
PUBLISHED = "results.json"
SUMMARY = "summary.json"
FETCH_TIMEOUT = 20  # seconds a read may wait; the whole request has fetch.DEADLINE_S


@dataclasses.dataclass(frozen=True)
class Source:
    """Records and where they were read."""

    records: list[Record]
    where: str  # a path or an address, as the user would type it
    kind: str  # "given", "local" or "reference"
    provenance: dict[str, Any] | None = None  # the reference dataset's (run, date, machine)

    def describe(self) -> str:
        """One line: how many records, from where, measured when and on what."""
        text = f"{len(self.records)} records from {self.where}"
        if self.provenance:
            text += f" ({provenance_text(self.provenance)})"
        return text


def provenance_text(p: dict[str, Any]) -> str:
    """The reference dataset's provenance in words."""
    machine = p.get("machine") or {}
    return (
        f"reference dataset, run {p.get('run_id')} on {p.get('date')}, "
        f"{p.get('cells')} cells measured on {machine.get('cores')} cores, "
        f"{machine.get('os')}, Python {machine.get('python')}, "
        f"{p.get('chromium') or 'Chromium unknown'}"
    )


@dataclasses.dataclass(frozen=True)
class Earlier:
    """The results of an earlier run: its records, or (from a ``summary.json``, which holds
    none) its scenario verdicts."""

    records: list[Record]
    verdicts: list[dict[str, Any]] | None  # cell_id, scenario, outcome, signature; summary only
    date: str | None  # when it finished: the summary's, else the newest record's start
    source: str  # the file's name


def read_earlier(path: Path, *, summary: bool = False) -> Earlier:
    """The one reader of earlier results: a results folder or a published site folder
    (its ``results.jsonl``, else ``results.json``, else, with ``summary``, ``summary.json``)
    or one of those files. A line or item that is not a whole record is skipped with a
    warning naming it; anything else wrong raises :class:`EarlierResultsError`, one sentence
    naming the file."""
    path = Path(path)
    names = (store.RESULTS, PUBLISHED, SUMMARY) if summary else (store.RESULTS, PUBLISHED)
    if path.is_dir():
        found = [path / n for n in names if (path / n).is_file()]
        if not found:
            raise EarlierResultsError(
                f"{path.name}/ holds none of {', '.join(names)}", missing=True
            )
        path = found[0]
    if not path.is_file():
        raise EarlierResultsError(f"{path.name} does not exist", missing=True)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise EarlierResultsError(f"{path.name} cannot be read ({exc.strerror})") from None
    try:
        return _earlier(text, path, summary)
    except EarlierResultsError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise EarlierResultsError(
            f"{path.name} is malformed ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


def _earlier(text: str, path: Path, summary: bool) -> Earlier:
    """Records or a summary from the text of ``path`` (see :func:`read_earlier`)."""
    if path.suffix != ".jsonl":  # a page's results.json or summary.json (or a copy)
        shape = "a list of records" + (" nor a summary" if summary else "")
        data = json.loads(text)  # not JSON (a page's 404 saved under the name): malformed
        if summary and isinstance(data, dict) and isinstance(data.get("scenarios"), list):
            rows = [
                {k: r[k] for k in ("cell_id", "scenario", "outcome")}
                | {"signature": r.get("signature")}
                for r in data["scenarios"]
            ]
            return Earlier([], rows, (data.get("run") or {}).get("finished"), path.name)
        if not isinstance(data, list):
            raise EarlierResultsError(f"{path.name} is not {shape}")
    records, skipped = store.parse(text)
    if skipped and not records:  # not a results file at all: one sentence, not a line each
        raise EarlierResultsError(f"{path.name} holds no readable record")
    for number, exc in skipped:
        log.warning(f"{path} line {number} is not a whole record ({exc}); skipped")
    date = max((r.started_at for r in records if r.started_at), default=None)
    return Earlier(records, None, date, path.name)


def load(given: str | None, out: Path | None) -> Source:
    """The records to answer from (see the module docstring); ``out`` is the local results
    folder (``MATRIX_OUT``)."""
    if given:
        return _given(given)
    local = store.read(out) if out is not None and out.exists() else []  # names a bad line
    if local:
        return Source(local, str(out / store.RESULTS), "local")
    return reference()


def reference() -> Source:
    """The reference dataset shipped in the package, with its provenance."""
    records = store.read(REFERENCE / store.RESULTS, warn=False)
    provenance = None
    if (REFERENCE / PROVENANCE).is_file():
        provenance = json.loads((REFERENCE / PROVENANCE).read_text(encoding="utf-8"))
    return Source(records, "the reference dataset in the package", "reference", provenance)


def _given(given: str) -> Source:
    if given == "reference":
        return reference()
    scheme = urllib.parse.urlsplit(given).scheme
    if scheme in ("http", "https"):
        return Source(_parsed(_fetch(given), given), given, "given", _remote_provenance(given))
    if len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise ConfigError(
            f"--from {given}: only http(s) addresses, files and folders are "
            "read; give the page's results.json address or a local copy."
        )
    path = Path(given)
    if path.is_dir():
        found = [path / n for n in (store.RESULTS, PUBLISHED) if (path / n).is_file()]
        if not found:
            raise ConfigError(
                f"--from {given}: the folder holds neither {store.RESULTS} nor "
                f"{PUBLISHED}; give a results folder or a published results.json."
            )
        path = found[0]
    if not path.is_file():
        raise ConfigError(
            f"--from {given}: no such file or folder; give a results folder, "
            "a results.jsonl, a results.json or an http(s) address."
        )
    beside = path.with_name(PROVENANCE)  # a published or copied reference dataset's
    try:
        provenance = _provenance(
            json.loads(beside.read_text(encoding="utf-8")) if beside.is_file() else None
        )
        text = path.read_text(encoding="utf-8", errors="replace")
    except (ValueError, RecursionError):
        provenance, text = None, path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(
            f"--from {given}: cannot be read ({exc.strerror}); make it "
            "readable or give another copy."
        ) from None
    return Source(_parsed(text, str(path)), str(path), "given", provenance)


def _remote_provenance(url: str) -> dict[str, Any] | None:
    """The ``provenance.json`` published beside the records at ``url`` (a reference dataset
    on a page has one), or None: records without it are answered from all the same."""
    if not url.endswith(f"/{store.RESULTS}"):
        return None
    try:
        return _provenance(json.loads(_fetch(urllib.parse.urljoin(url, PROVENANCE))))
    except (ConfigError, ValueError, RecursionError):
        return None


def _provenance(data: Any) -> dict[str, Any] | None:
    """A provenance of the shape :func:`provenance_text` reads, else None (not shown)."""
    if not isinstance(data, dict):
        return None
    return {**data, "machine": data.get("machine") if isinstance(data.get("machine"), dict) else {}}


def _fetch(url: str) -> str:
    """The text at ``url``, within :data:`fetch.DEADLINE_S` and :data:`fetch.MAX_BYTES`."""
    try:
        return fetch.get(url, read_timeout=FETCH_TIMEOUT).data.decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"--from {url}: could not be fetched ({reason}); check the address, "
            "or download it and give the file."
        ) from None


def _parsed(text: str, where: str) -> list[Record]:
    records, skipped = store.parse(text)
    if skipped and not records:
        number, exc = skipped[0]
        raise ConfigError(
            f"--from {where}: no record could be read (item {number}: {exc}); "
            "give a results.jsonl or a published results.json."
        )
    return records
