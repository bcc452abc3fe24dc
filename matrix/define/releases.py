"""Releases: what the package index offers, frozen into a committed snapshot.

``refresh`` asks the index (PyPI's JSON API) which releases of the tracked distributions
exist, reads each release's Requires-Python and its requirements on the other tracked
distributions, and writes ``matrix/releases.json``. ``load`` reads that file back with no
network, so listing and planning cells is offline and reproducible.

Three modules, one idea each: this one is the snapshot (its model, ``load`` and ``write``,
and ``refresh``, which decides what to keep); :mod:`matrix.define.index` is the index
client (HTTP, range reads); :mod:`matrix.define.metadata` reads the requirements out of
the metadata files it fetches. Only the standard library and ``packaging`` are used:
this module also runs inside nox's own interpreter.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from matrix import errors
from matrix.define.index import DEFAULT_INDEX, Index, IndexUnreachable
from matrix.define.versions import version_key

__all__ = [
    "DISTRIBUTIONS",
    "SNAPSHOT_PATH",
    "Dependency",
    "IndexUnreachable",
    "Release",
    "Skipped",
    "Snapshot",
    "format_specifier",
    "load",
    "python_versions",
    "refresh",
    "write",
]

#: The distributions the matrix tracks, in the order they are presented.
DISTRIBUTIONS = (
    "pytest",
    "pytest-asyncio",
    "pytest-playwright",
    "pytest-playwright-asyncio",
    "playwright",
    "pytest-cov",
    "coverage",
)
SNAPSHOT_PATH = Path(__file__).parent.parent / "releases.json"
SCHEMA = 1
WORKERS = 8  # small on purpose: a few hundred requests, politely
_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
#: Releases that exist on the index but are not the software: a cell with one of them
#: would silently test "no plugin". Listed in the snapshot's ``skipped`` with this reason.
PLACEHOLDERS = {
    ("pytest-playwright-asyncio", "0.0.1"): (
        "name placeholder: its wheel holds metadata only (no plugin code, no dependencies)"
    ),
}
_PYTHON_MARKER_VARS = {"python_version", "python_full_version"}


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dependency:
    """A release's requirement on another tracked distribution.

    ``marker`` is kept as text. Only markers about the Python version are evaluated
    (``applies``); a requirement with any other marker never counts, because whether it
    applies depends on the machine, and a prune must never be wrong.
    """

    name: str
    specifier: str
    marker: str | None = None

    def applies(self, python: str | None) -> bool:
        """Whether this requirement holds on Python ``python`` (None: unconditional only)."""
        if self.marker is None:
            return True
        if python is None or not _is_python_marker(self.marker):
            return False
        minor = ".".join(python.split(".")[:2])
        full = python if python.count(".") >= 2 else f"{python}.0"
        return Marker(self.marker).evaluate({"python_version": minor, "python_full_version": full})

    def to_json(self) -> str:
        """The requirement as a PEP 508 string, e.g. ``pytest<9,>=8.2``."""
        text = f"{self.name}{self.specifier}"
        return f"{text}; {self.marker}" if self.marker else text

    @classmethod
    def from_json(cls, text: str) -> Dependency:
        """Parse what ``to_json`` wrote."""
        req = Requirement(text)
        marker = str(req.marker) if req.marker else None
        return cls(
            name=canonicalize_name(req.name),
            specifier=format_specifier(req.specifier),
            marker=marker,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release:
    """One non-yanked release of a tracked distribution.

    ``requires`` lists its requirements on other tracked distributions; None means the
    index gave no trustworthy metadata (nothing can be concluded from it).
    """

    version: str
    uploaded: str  # earliest file upload, ISO 8601 UTC
    requires_python: str | None
    requires: tuple[Dependency, ...] | None

    @functools.cached_property
    def parsed(self) -> Version:
        """The version as a ``packaging`` Version (parsed once: planning asks often)."""
        return Version(self.version)

    def allows_python(self, python: str) -> bool:
        """Whether Requires-Python admits Python ``python`` ("3.13" or "3.13.1").

        A minor stands for all its patches: ">=3.9.2" admits "3.9", "<3.10" does not admit
        "3.10". An unparsable Requires-Python admits everything (the resolver decides).
        """
        return python_allowed(self.requires_python, python)

    def requirement(self, dist: str, python: str | None = None) -> SpecifierSet | None:
        """The combined specifier this release puts on ``dist`` under Python ``python``."""
        key = (dist, python)
        if key not in self._requirements:  # planning asks each release the same, often
            deps = [d for d in self.requires or () if d.name == dist and d.applies(python)]
            self._requirements[key] = (
                specifier(",".join(d.specifier for d in deps if d.specifier)) if deps else None
            )
        return self._requirements[key]

    @functools.cached_property
    def _requirements(self) -> dict[tuple[str, str | None], SpecifierSet | None]:
        return {}


# Planning asks the same questions thousands of times; parsing is the expensive part.
@functools.lru_cache(maxsize=4096)
def python_allowed(requires_python: str | None, python: str) -> bool:
    """Whether a Requires-Python specifier admits ``python`` (a minor stands for all its
    patches); no specifier, or one that cannot be parsed, admits everything."""
    if not requires_python:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    if python.count(".") >= 2:
        return spec.contains(python, prereleases=True)
    return any(spec.contains(f"{python}.{patch}") for patch in range(40))


@functools.lru_cache(maxsize=4096)
def specifier(text: str) -> SpecifierSet:
    """``text`` parsed as a specifier, once per text (planning and check ask often)."""
    return SpecifierSet(text)


class Skipped(NamedTuple):
    """A release left out of the snapshot, and why."""

    distribution: str
    version: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Every release the matrix may pick from, as the index described it at ``taken_at``."""

    taken_at: str
    since: str
    index: str
    distributions: Mapping[str, tuple[Release, ...]]
    skipped: tuple[Skipped, ...] = ()

    def releases(self, dist: str) -> tuple[Release, ...]:
        """Releases of ``dist``, oldest version first (empty if the snapshot lacks it)."""
        return self.distributions.get(canonicalize_name(dist), ())

    def release(self, dist: str, version: str) -> Release | None:
        """The release of ``dist`` equal to ``version`` (PEP 440 equality), or None."""
        key = ("release", dist, version)
        if key not in self.answers:
            try:
                wanted = Version(version)
            except InvalidVersion:
                wanted = None
            self.answers[key] = self._by_version.get(canonicalize_name(dist), {}).get(wanted)
        return self.answers[key]

    @functools.cached_property
    def _by_version(self) -> dict[str, dict[Version, Release]]:
        # Planning the full profile looks releases up hundreds of thousands of times.
        return {dist: {r.parsed: r for r in found} for dist, found in self.distributions.items()}

    @functools.cached_property
    def answers(self) -> dict[Any, Any]:
        """A memo for questions asked of this snapshot many times while planning."""
        return {}

    def to_json(self) -> dict[str, Any]:
        """The snapshot as JSON-ready data (see ``write`` for the file format)."""
        return {
            "schema": SCHEMA,
            "taken_at": self.taken_at,
            "since": self.since,
            "index": self.index,
            "distributions": {
                name: [_release_json(r) for r in releases]
                for name, releases in sorted(self.distributions.items())
            },
            "skipped": [s._asdict() for s in _sorted_skipped(self.skipped)],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """Rebuild a snapshot from ``to_json`` output."""
        if data.get("schema") != SCHEMA:
            raise SnapshotError(
                f"the release snapshot has schema {data.get('schema')!r}, this code reads "
                f"schema {SCHEMA}; regenerate it with loop-compat releases"
            )
        return cls(
            taken_at=_text(data["taken_at"], "taken_at"),
            since=_text(data["since"], "since"),
            index=_text(data["index"], "index"),
            distributions={
                _text(name, "a distribution"): tuple(_release_from_json(r) for r in rows)
                for name, rows in _of(data["distributions"], dict, "distributions").items()
            },
            skipped=tuple(
                Skipped(**_of(s, dict, "skipped"))
                for s in _of(data.get("skipped", ()), (list, tuple), "skipped")
            ),
        )


def format_specifier(spec: SpecifierSet | str) -> str:
    """A specifier as people write it, lower bounds first: ">=8.2,<9" (not "<9,>=8.2")."""
    order = {"===": 0, "==": 0, "~=": 1, ">=": 2, ">": 2, "!=": 3, "<=": 4, "<": 4}
    clauses = sorted(SpecifierSet(str(spec)), key=lambda c: (order.get(c.operator, 5), str(c)))
    return ",".join(str(c) for c in clauses)


def python_versions() -> list[str]:
    """The Python minor versions the matrix considers, oldest first: "3.9" ... "3.15"."""
    return list(_PYTHONS)


def _release_json(release: Release) -> dict[str, Any]:
    requires = None
    if release.requires is not None:
        requires = [d.to_json() for d in sorted(release.requires, key=_dependency_key)]
    return {
        "version": release.version,
        "uploaded": release.uploaded,
        "requires_python": release.requires_python,
        "requires": requires,
    }


def _release_from_json(row: Mapping[str, Any]) -> Release:
    """One release as ``_release_json`` wrote it; a field of the wrong type is a TypeError
    here, not a failure deep in planning."""
    row = _of(row, dict, "a release")
    requires = row.get("requires")
    python = row.get("requires_python")
    release = Release(
        version=_text(row["version"], "version"),
        uploaded=_text(row["uploaded"], "uploaded"),
        requires_python=None if python is None else _text(python, "requires_python"),
        requires=None
        if requires is None
        else tuple(
            Dependency.from_json(_text(t, "requires")) for t in _of(requires, list, "requires")
        ),
    )
    _ = release.parsed  # a version that is none (InvalidVersion) is found now
    return release


def _of(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"{what} is of type {type(value).__name__}")
    return value


def _text(value: Any, what: str) -> str:
    return _of(value, str, what)


def _sorted_skipped(skipped: Iterable[Skipped]) -> list[Skipped]:
    return sorted(skipped, key=lambda s: (s.distribution, version_key(s.version)))


# --------------------------------------------------------------------------- load / write


def load(path: Path = SNAPSHOT_PATH) -> Snapshot:
    """Read a snapshot written by ``refresh``; no network. A file read before and unchanged
    since (same modification time and size) is not parsed again: one command may plan and
    search from the same snapshot."""
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise SnapshotError(
            f"no release snapshot at {path}; create it with the refresh command "
            "(loop-compat releases; it needs the package index once)"
        ) from None
    except OSError as exc:
        raise SnapshotError(_unusable(path, exc.strerror)) from None
    if stat.st_size > MAX_SNAPSHOT_BYTES:
        raise SnapshotError(_unusable(path, f"larger than {MAX_SNAPSHOT_BYTES // 2**20} MB"))
    return _parsed(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


#: Bytes of a snapshot read at most (the shipped one is about 0.3 MB).
MAX_SNAPSHOT_BYTES = 64 * 2**20


class SnapshotError(errors.SnapshotError):
    """The snapshot cannot be used; the message says what to do next."""


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int, size: int) -> Snapshot:
    return _snapshot(path, lambda data: Snapshot.from_json(data))


def _snapshot(path: str | Path, build: Any) -> Any:
    """``build(data)`` of the snapshot file's JSON; any way the file is not a snapshot (cut,
    not UTF-8, nested too deep, a field missing or of the wrong type) is one
    :class:`SnapshotError`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__} where an object is expected")
        return build(data)
    except OSError as exc:
        raise SnapshotError(_unusable(path, exc.strerror)) from None
    except SnapshotError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        reason = (
            "nested too deep"
            if isinstance(exc, RecursionError)
            else (f"{type(exc).__name__}: {str(exc)[:120]}")
        )
        raise SnapshotError(_unusable(path, f"not a release snapshot: {reason}")) from None


def _unusable(path: str | Path, reason: str | None) -> str:
    return (
        f"the release snapshot {path} cannot be used ({reason}); take it again with "
        "loop-compat releases, or point MATRIX_RELEASES at a snapshot it wrote"
    )


def as_of(source: Path, taken_at: str, folder: Path) -> Path:
    """The snapshot file ``source`` as it would have been taken at ``taken_at`` (releases
    uploaded later left out), written into ``folder``: yesterday's snapshot, today."""

    def earlier(data: dict[str, Any]) -> dict[str, Any]:
        return {
            **data,
            "taken_at": taken_at,
            "distributions": {
                d: [r for r in rs if r["uploaded"] <= taken_at]
                for d, rs in data["distributions"].items()
            },
        }

    data = _snapshot(source, earlier)
    path = folder / f"releases-{taken_at[:13]}.json"
    path.write_text(json.dumps(data))
    return path


def write(snapshot: Snapshot, path: Path = SNAPSHOT_PATH) -> None:
    """Write ``snapshot`` as sorted, indented JSON, atomically (a reader never sees half)."""
    path = Path(path)
    text = json.dumps(snapshot.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- refresh


def refresh(
    path: Path = SNAPSHOT_PATH,
    since: str = "2023-01-01",
    *,
    index: Index | str = DEFAULT_INDEX,
    distributions: Iterable[str] = DISTRIBUTIONS,
) -> Snapshot:
    """Ask the index for the tracked distributions' releases and write the snapshot.

    Keeps every release uploaded on or after ``since`` (an ISO date or timestamp, UTC) and,
    per distribution, the newest final release before it, so each axis has a floor.
    Yanked releases are left out and listed in ``skipped``. Raises ``IndexUnreachable``
    when the index cannot be reached; nothing is written then.
    """
    index = Index(index) if isinstance(index, str) else index
    cutoff = _parse_since(since)
    taken_at = _iso(dt.datetime.now(dt.timezone.utc))
    names = [canonicalize_name(n) for n in distributions]
    projects = _parallel(index.project, names)
    chosen = {n: _choose(n, p, cutoff) for n, p in zip(names, projects, strict=True)}
    jobs = [(n, c) for n in names for c in chosen[n][0]]
    built = _parallel(lambda job: _build_release(index, *job), jobs)
    releases: dict[str, list[Release]] = {n: [] for n in names}
    for (name, _), release in zip(jobs, built, strict=True):
        releases[name].append(release)
    snapshot = Snapshot(
        taken_at=taken_at,
        since=since,
        index=index.base,
        distributions={n: tuple(sorted(r, key=lambda x: x.parsed)) for n, r in releases.items()},
        skipped=tuple(_sorted_skipped(s for n in names for s in chosen[n][1])),
    )
    write(snapshot, path)
    return snapshot


def _parallel(function: Any, items: list[Any]) -> list[Any]:
    """``map`` over a small thread pool; the first error cancels what has not started."""
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Candidate:
    """A release as the project document lists it, before its metadata is read."""

    version: str
    files: tuple[Mapping[str, Any], ...]
    doc_url: str  # relative file URLs in the document are relative to this

    @property
    def uploaded(self) -> dt.datetime:
        return min(
            _parse_time(f.get("upload_time_iso_8601") or f["upload_time"]) for f in self.files
        )


def _choose(
    name: str, doc: Mapping[str, Any], cutoff: dt.datetime
) -> tuple[list[_Candidate], list[Skipped]]:
    """Pick the releases to keep from a project document, and note what was left out."""
    kept: list[_Candidate] = []
    skipped: list[Skipped] = []
    floor: _Candidate | None = None
    for version, files in doc["releases"].items():
        candidate = _Candidate(version=version, files=tuple(files), doc_url=doc["_url"])
        reason = _skip_reason(name, candidate)
        if not files or candidate.uploaded < cutoff:
            if reason is None and _is_final(version) and _newer(candidate, floor):
                floor = candidate
            continue
        if reason:
            skipped.append(Skipped(distribution=name, version=version, reason=reason))
        else:
            kept.append(candidate)
    if floor is not None:
        kept.append(floor)
    return kept, skipped


def _skip_reason(name: str, candidate: _Candidate) -> str | None:
    """Why a release cannot be offered, or None. PyPI yanks whole releases (PEP 592)."""
    try:
        Version(candidate.version)
    except InvalidVersion:
        return "not a PEP 440 version"
    if (name, candidate.version) in PLACEHOLDERS:
        return PLACEHOLDERS[name, candidate.version]
    if not candidate.files:
        return "no files on the index"
    if all(f.get("yanked") for f in candidate.files):
        why = next(
            (f.get("yanked_reason") for f in candidate.files if f.get("yanked_reason")), None
        )
        return f"yanked: {why}" if why else "yanked (no reason given)"
    return None


def _is_final(version: str) -> bool:
    parsed = Version(version)
    return not (parsed.is_prerelease or parsed.is_devrelease)


def _newer(candidate: _Candidate, than: _Candidate | None) -> bool:
    return than is None or Version(candidate.version) > Version(than.version)


def _build_release(index: Index, name: str, candidate: _Candidate) -> Release:
    """Read one release's metadata and turn it into a ``Release``."""
    files = [f for f in candidate.files if not f.get("yanked")]
    requires_dist = index.requires_dist(name, candidate.version, files, candidate.doc_url)
    return Release(
        version=candidate.version,
        uploaded=_iso(candidate.uploaded),
        requires_python=_requires_python(files),
        requires=None if requires_dist is None else _dependencies(name, requires_dist),
    )


def _requires_python(files: list[Mapping[str, Any]]) -> str | None:
    """Requires-Python as installers see it: the wheel's value, else the sdist's."""
    ordered = sorted(files, key=lambda f: f.get("packagetype") != "bdist_wheel")
    values = [f.get("requires_python") for f in ordered if f.get("requires_python")]
    return values[0].strip() if values else None


def _dependencies(name: str, requires_dist: Iterable[str]) -> tuple[Dependency, ...]:
    """Requirements on other tracked distributions; extras-only requirements are dropped."""
    tracked = set(DISTRIBUTIONS) - {name}
    out = set()
    for text in requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # a broken line in someone's metadata; pip would refuse it too
        marker = str(req.marker) if req.marker else None
        if canonicalize_name(req.name) not in tracked or (marker and _mentions_extra(marker)):
            continue
        out.add(
            Dependency(
                name=canonicalize_name(req.name),
                specifier=format_specifier(req.specifier),
                marker=marker,
            )
        )
    return tuple(sorted(out, key=_dependency_key))


def _dependency_key(dependency: Dependency) -> tuple[str, str, str]:
    return (dependency.name, dependency.specifier, dependency.marker or "")


def _marker_variables(marker: str) -> set[str]:
    """The environment variables a marker mentions (quoted values and keywords removed)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", " ", marker)
    return set(re.findall(r"[A-Za-z_][A-Za-z_.]*", unquoted)) - {"and", "or", "not", "in"}


def _mentions_extra(marker: str) -> bool:
    return "extra" in _marker_variables(marker)


def _is_python_marker(marker: str) -> bool:
    variables = _marker_variables(marker)
    return bool(variables) and variables <= _PYTHON_MARKER_VARS


# --------------------------------------------------------------------------- time


def _parse_since(since: str) -> dt.datetime:
    try:
        return _parse_time(since if "T" in since else f"{since}T00:00:00Z")
    except ValueError:
        raise errors.ConfigError(
            f"--since {since!r} is not an ISO date; give one such as 2023-01-01 or "
            "2023-01-01T00:00:00Z"
        ) from None


def _parse_time(text: str) -> dt.datetime:
    # fromisoformat before 3.11 does not accept a trailing "Z"
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
