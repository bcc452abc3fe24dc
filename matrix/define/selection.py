"""Selection: turn an axis value from the matrix definition into exact versions, and tell
from declared metadata alone when a cell cannot be installed.

An axis value is one string:

- ``"8.4.2"``: that exact version. Any PEP 440 version, pre-releases too; it need not be
  in the snapshot (the resolver decides), and is returned as the snapshot spells it.
- ``"latest"``: the newest final release in the snapshot.
- ``"minors"`` / ``"minors:SPEC"``: the newest final patch of each major.minor, optionally
  within a specifier: ``"minors:>=0.21,<2"``.
- ``"newest:N"`` / ``"newest:N:SPEC"``: the N newest final releases: ``"newest:3:>=8"``.
- ``"all"`` / ``"all:SPEC"``: every final release (within a specifier).

"Final" excludes pre-releases and dev releases (post releases count: pytest-asyncio
1.4.1.post1 is the newest patch of 1.4). Selections never cross the snapshot's floor,
because the snapshot holds nothing older.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from matrix.define.releases import DISTRIBUTIONS, Release, Snapshot, format_specifier

__all__ = ["SELECTORS", "declared_incompatible", "expand", "installable"]

SELECTORS = ("latest", "minors[:SPEC]", "newest:N[:SPEC]", "all[:SPEC]")
_PLUGINS = ("pytest-playwright", "pytest-playwright-asyncio")


def expand(dist: str, value: str, snapshot: Snapshot) -> list[str]:
    """Exact versions of ``dist`` selected by axis value ``value``, oldest first.

    Raises ``ValueError`` with a sentence for a malformed value, an unknown selector, or a
    selection that picks nothing (an empty axis would silently empty the whole matrix).
    """
    text = value.strip()
    kind, _, rest = text.partition(":")
    if kind not in {"latest", "minors", "newest", "all"}:
        return [_exact(dist, text, snapshot)]
    finals = [r for r in snapshot.releases(dist) if _is_final(r)]
    if not finals:
        raise ValueError(
            f"the release snapshot has no releases of {dist}; add it to the tracked "
            "distributions and refresh the snapshot, or give exact versions"
        )
    picked = _select(kind, rest, finals, f"{dist} axis value {value!r}")
    if not picked:
        raise ValueError(
            f"{dist} axis value {value!r} selects no release from the snapshot "
            f"(it has {finals[0].version} to {finals[-1].version})"
        )
    return [r.version for r in sorted(picked, key=lambda r: r.parsed)]


def _exact(dist: str, text: str, snapshot: Snapshot) -> str:
    """An exact version, spelled as the snapshot spells it when it is there."""
    try:
        Version(text)
    except InvalidVersion:
        raise ValueError(
            f"{dist} axis value {text!r} is neither a version nor a selector "
            f"({', '.join(SELECTORS)})"
        ) from None
    known = snapshot.release(dist, text)
    return known.version if known else text


def _select(kind: str, rest: str, finals: list[Release], what: str) -> list[Release]:
    """Apply one selector to the final releases (oldest first)."""
    if kind == "latest":
        if rest:
            raise ValueError(f"{what}: 'latest' takes no argument; use 'newest:1:SPEC'")
        return [max(finals, key=lambda r: r.parsed)]
    if kind == "newest":
        count_text, _, rest = rest.partition(":")
        if not count_text.strip().isdigit() or int(count_text) < 1:
            raise ValueError(f"{what}: write 'newest:N' or 'newest:N:SPEC' with N >= 1")
        within = _within(finals, rest, what)
        return sorted(within, key=lambda r: r.parsed)[-int(count_text) :]
    within = _within(finals, rest, what)
    return _newest_per_minor(within) if kind == "minors" else within


def _within(releases: list[Release], spec_text: str, what: str) -> list[Release]:
    if not spec_text.strip():
        return list(releases)
    try:
        spec = SpecifierSet(spec_text.strip())
    except InvalidSpecifier:
        raise ValueError(f"{what}: {spec_text.strip()!r} is not a version specifier") from None
    return [r for r in releases if spec.contains(r.parsed, prereleases=False)]


def _newest_per_minor(releases: list[Release]) -> list[Release]:
    newest: dict[tuple[int, int], Release] = {}
    for release in releases:
        key = (release.parsed.major, release.parsed.minor)
        if key not in newest or release.parsed > newest[key].parsed:
            newest[key] = release
    return list(newest.values())


def _is_final(release: Release) -> bool:
    return not (release.parsed.is_prerelease or release.parsed.is_devrelease)


# --------------------------------------------------------------------------- pruning


def declared_incompatible(python: str, pins: Mapping[str, str], snapshot: Snapshot) -> str | None:
    """Why a cell cannot be installed, from declared metadata only; None if it may be.

    ``python`` is a minor ("3.13"); ``pins`` maps distributions to exact versions, and
    distributions left out are for the resolver to pick. Checks, in order: both Playwright
    plugins pinned; a pinned release's Requires-Python; a pinned release's requirement on
    another pinned distribution; and one level of transitivity through an unpinned tracked
    distribution (is there any release of it that every pinned requirement allows and that
    itself allows the pins and the Python?). Unknown metadata never prunes.
    """
    key = ("declared_incompatible", python, tuple(sorted(pins.items())))
    if installable(python, pins, snapshot):  # answered already while the plan was made
        return None
    if key not in snapshot.answers:  # pairwise planning asks the same cell many times
        exact = _parse_pins(pins)
        snapshot.answers[key] = next(
            (
                reason
                for check in (
                    _plugins_clash,
                    _python_mismatch,
                    _direct_conflict,
                    _transitive_conflict,
                )
                if (reason := check(python, exact, snapshot))
            ),
            None,
        )
    return snapshot.answers[key]


def installable(python: str, pins: Mapping[str, str], snapshot: Snapshot) -> bool:
    """Whether :func:`declared_incompatible` finds nothing, without composing its reason.

    Pairwise planning asks this of tens of thousands of partial cells, most of them ruled
    out; the reasons are only worth writing for the few rows a plan shows.
    """
    key = ("installable", python, tuple(sorted(pins.items())))
    if key not in snapshot.answers:
        # The same checks as declared_incompatible, each asked of the fewest pins it reads
        # (one pin, two pins, the pins around one unpinned distribution) and memoised so:
        # the partial cells of one plan share most of those.
        exact = _parse_pins(pins)
        snapshot.answers[key] = not (
            all(p in exact for p in _PLUGINS)
            or not all(_pair_fits((d, v), (d, v), python, snapshot) for d, v in exact.items())
            or not all(
                _pair_fits(a, b, python, snapshot)
                for a, b in itertools.combinations(exact.items(), 2)
            )
            or any(
                middle not in exact and _unfit_around(middle, python, exact, snapshot)
                for middle in DISTRIBUTIONS
            )
        )
    return snapshot.answers[key]


def _pair_fits(one: tuple[str, str], two: tuple[str, str], python: str, snapshot: Snapshot) -> bool:
    """Whether two pins (or one pin, given twice) fit Python and each other's requirements."""
    key = ("pair", one, two, python)
    if key not in snapshot.answers:
        pins = dict((one, two))
        releases = [(d, r) for d, v in pins.items() if (r := snapshot.release(d, v))]
        snapshot.answers[key] = all(r.allows_python(python) for _, r in releases) and not any(
            _excluded_pin(d, r, pins, python) for d, r in releases
        )
    return snapshot.answers[key]


def _unfit_around(middle: str, python: str, pins: dict[str, str], snapshot: Snapshot) -> bool:
    """:func:`_unfit` asked of the pins that can matter to ``middle`` only: those of the
    distributions that may require it or that it may require."""
    near = _neighbours(middle, snapshot)
    around = {d: v for d, v in pins.items() if d in near}
    key = ("unfit", middle, python, tuple(around.items()))
    if key not in snapshot.answers:
        snapshot.answers[key] = _unfit(middle, python, around, snapshot) is not None
    return snapshot.answers[key]


def _neighbours(middle: str, snapshot: Snapshot) -> frozenset[str]:
    """Distributions some release of which requires ``middle``, or which some release of
    ``middle`` requires (whatever the Python or the markers)."""
    key = ("neighbours", middle)
    if key not in snapshot.answers:
        near = {d.name for r in snapshot.releases(middle) for d in r.requires or ()}
        near |= {
            dist
            for dist, releases in snapshot.distributions.items()
            if any(d.name == middle for r in releases for d in r.requires or ())
        }
        snapshot.answers[key] = frozenset(near)
    return snapshot.answers[key]


def _parse_pins(pins: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(_canonical_pin(dist, version) for dist, version in pins.items()))


@functools.lru_cache(maxsize=4096)
def _canonical_pin(dist: str, version: str) -> tuple[str, str]:
    try:
        Version(version)
    except (InvalidVersion, TypeError):
        raise ValueError(f"the cell pins {dist} to {version!r}, which is not a version") from None
    return canonicalize_name(dist), version


def _plugins_clash(python: str, pins: dict[str, str], snapshot: Snapshot) -> str | None:
    # Both plugins register the same options and, from 0.7.2, refuse each other at startup.
    if all(p in pins for p in _PLUGINS):
        both = " and ".join(f"{p} {pins[p]}" for p in _PLUGINS)
        return f"the two Playwright plugins cannot be installed together ({both})"
    return None


def _python_mismatch(python: str, pins: dict[str, str], snapshot: Snapshot) -> str | None:
    for dist, version in pins.items():
        release = snapshot.release(dist, version)
        if release and not release.allows_python(python):
            return _python_reason(dist, release, python)
    return None


def _python_reason(dist: str, release: Release, python: str) -> str:
    return (
        f"{dist} {release.version} requires Python {release.requires_python}; "
        f"the cell uses Python {python}"
    )


def _direct_conflict(python: str, pins: dict[str, str], snapshot: Snapshot) -> str | None:
    for dist, version in pins.items():
        release = snapshot.release(dist, version)
        blocked = release and _blocked_pin(dist, release, pins, python)
        if blocked:
            return blocked
    return None


def _blocked_pin(dist: str, release: Release, pins: dict[str, str], python: str) -> str | None:
    """The first pin that ``release`` of ``dist`` excludes, as a reason; None if none."""
    excluded = _excluded_pin(dist, release, pins, python)
    if excluded is None:
        return None
    other, spec = excluded
    return (
        f"{dist} {release.version} requires {other}{format_specifier(spec)}; the cell pins "
        f"{other} {pins[other]}"
    )


def _excluded_pin(
    dist: str, release: Release, pins: dict[str, str], python: str
) -> tuple[str, SpecifierSet] | None:
    """(pinned distribution, its specifier) for the first pin ``release`` rules out."""
    for other, version in pins.items():
        spec = release.requirement(other, python) if other != dist else None
        if spec is not None and not _admits(spec, version):
            return other, spec
    return None


@functools.lru_cache(maxsize=65536)
def _admits(spec: SpecifierSet, version: str) -> bool:
    return spec.contains(version, prereleases=True)


def _transitive_conflict(python: str, pins: dict[str, str], snapshot: Snapshot) -> str | None:
    # Example: pytest-playwright-asyncio 0.7.1 needs pytest-asyncio>=0.24.0, and every such
    # pytest-asyncio needs pytest>=8.2, so pinning pytest 7.4.4 next to the plugin is
    # impossible even though the plugin itself accepts pytest>=6.2.4.
    for middle in DISTRIBUTIONS:
        reason = None if middle in pins else _through(middle, python, pins, snapshot)
        if reason:
            return reason
    return None


def _unfit(
    middle: str, python: str, pins: dict[str, str], snapshot: Snapshot
) -> tuple[list[tuple[str, str, SpecifierSet]], list[Release]] | None:
    """When no release of the unpinned ``middle`` can join the pins: the pins' demands on
    it and the releases those allow; None when one can (or the snapshot cannot tell)."""
    demands = _demands_on(middle, python, pins, snapshot)
    releases = snapshot.releases(middle)
    if not demands or not releases or not _above_floor(demands, releases[0]):
        return None
    allowed = _allowed(middle, tuple(s for *_, s in demands), snapshot)
    # newest first: the release that fits, when one does, is usually among the newest
    if any(
        r.allows_python(python) and _excluded_pin(middle, r, pins, python) is None
        for r in reversed(allowed)
    ):
        return None
    return demands, allowed


def _through(middle: str, python: str, pins: dict[str, str], snapshot: Snapshot) -> str | None:
    """Reason no release of the unpinned ``middle`` can join the pins, or None."""
    unfit = _unfit(middle, python, pins, snapshot)
    if unfit is None:
        return None
    demands, allowed = unfit
    misfits = [_misfit(middle, r, pins, python) for r in allowed]
    wanted = " and ".join(f"{d} {v} requires {middle}{format_specifier(s)}" for d, v, s in demands)
    if not allowed:
        them = "it" if len(demands) == 1 else "all of them"
        return f"{wanted}, and no release of {middle} in the snapshot satisfies {them}"
    shown = misfits[0] if len(misfits) == 1 else f"{misfits[0]} ... {misfits[-1]}"
    cell = ", ".join([f"Python {python}"] + [f"{d} {v}" for d, v in pins.items()])
    return f"{wanted}, and no such release of {middle} fits the cell ({cell}): {shown}"


def _allowed(middle: str, specs: tuple[SpecifierSet, ...], snapshot: Snapshot) -> list[Release]:
    """The releases of ``middle`` that every specifier admits (memoised per snapshot)."""
    key = ("allowed", middle, tuple(str(s) for s in specs))
    if key not in snapshot.answers:
        snapshot.answers[key] = [
            r
            for r in snapshot.releases(middle)
            if all(s.contains(r.parsed, prereleases=True) for s in specs)
        ]
    return snapshot.answers[key]


def _demands_on(
    middle: str, python: str, pins: dict[str, str], snapshot: Snapshot
) -> list[tuple[str, str, SpecifierSet]]:
    """(pinned dist, version, specifier) for every pinned release that requires ``middle``."""
    demands = []
    for dist, version in pins.items():
        release = snapshot.release(dist, version)
        spec = release.requirement(middle, python) if release else None
        if spec is not None and str(spec):
            demands.append((dist, release.version, spec))
    return demands


def _above_floor(demands: list[tuple[str, str, SpecifierSet]], floor: Release) -> bool:
    """Whether the demands rule out every version older than the snapshot's floor.

    The snapshot knows nothing about older releases; if one of them could satisfy the
    demands, it might fit the cell, so no conclusion may be drawn.
    """
    lower = {">=", ">", "~=", "==", "==="}
    for *_, spec in demands:
        for clause in spec:
            if clause.operator in lower and _version(clause.version) >= floor.parsed:
                return True
    return False


def _version(text: str) -> Version:
    try:
        return Version(text.removesuffix(".*"))
    except InvalidVersion:  # "===" allows arbitrary strings
        return Version("0")


def _misfit(middle: str, release: Release, pins: dict[str, str], python: str) -> str | None:
    """Why ``release`` of ``middle`` cannot join the pins on ``python``, briefly; or None."""
    if not release.allows_python(python):
        return f"{middle} {release.version} requires Python {release.requires_python}"
    excluded = _excluded_pin(middle, release, pins, python)
    if excluded is None:
        return None
    return f"{middle} {release.version} requires {excluded[0]}{format_specifier(excluded[1])}"
