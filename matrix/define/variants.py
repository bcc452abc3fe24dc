"""Variants: named changes to a probe project (remedies people try, other suite shapes).

The catalogue is ``variants.toml`` beside the probes, with a folder of files per variant
under ``variants/<name>/`` (its format is described at the top of that file). A cell
carries one variant (``baseline``: the probe as it is). This module reads the catalogue,
says whether a variant applies to a cell, and applies it to a copy of a probe project.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any, NamedTuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from matrix import locations
from matrix.define import plugin_source
from matrix.define.cell import BASELINE
from matrix.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CATALOGUE = locations.VARIANTS
KEYS = frozenset(
    {
        "description",
        "kind",
        "size",
        "probes",
        "requires",
        "packages",
        "ini",
        "conftest",
        "replace",
        "strip-markers",
        "timeout",
        "folder",
    }
)
ATTEMPT_KEYS = frozenset({"what", "variant", "scenario", "plugin"})
DEFAULT_PROBES = ("sync-plugin", "async-plugin", "native-async")
_MARKER = re.compile(r"^\s*@pytest\.mark\.asyncio\s*$\n?", re.M)
_INI_KEY = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Variant:
    """One named change to a probe project, and where it applies."""

    name: str
    description: str
    folder: Path
    kind: str = "shape"  # "remedy": a fix people try; "shape": another suite that meets the bug
    size: int = 0  # how much it changes; remedies are listed smallest first
    probes: tuple[str, ...] = DEFAULT_PROBES
    requires: tuple[tuple[str, str], ...] = ()  # (python or distribution, specifier)
    packages: tuple[str, ...] = ()
    ini: tuple[str, ...] = ()
    conftest: bool = False
    replace: tuple[str, ...] = ()
    strip_markers: bool = False
    timeout: float | None = None

    def cannot_apply(self, cell, known: frozenset[str] | None = None) -> str | None:
        """Why this variant cannot apply to ``cell`` (None when it can).

        ``known``: for a partial cell (pairwise generation), the keys it has settled
        (``probe``, ``python``, distributions); only those are judged.
        """
        if cell.suite and self.name != BASELINE:
            return f"variant '{self.name}' changes a probe; it cannot apply to a user's suite"
        if (known is None or "probe" in known) and cell.probe not in self.probes:
            return (
                f"variant '{self.name}' applies to the {' and '.join(self.probes)} probe"
                f"{'s' if len(self.probes) > 1 else ''}, not to {cell.probe}"
            )
        if self.installs_plugin and not plugin_source.available():
            return f"variant '{self.name}' installs the plugin from a checkout of the repository"
        values = {"python": cell.python, **cell.pin_map}
        for key, spec in self.requires:
            if known is not None and key not in known:
                continue
            if not values.get(key) or not SpecifierSet(spec).contains(
                values[key], prereleases=True
            ):
                return f"variant '{self.name}' needs {key}{spec}"
        return None

    @property
    def installs_plugin(self) -> bool:
        """Whether it installs the plugin's wheel built from this checkout (the guard)."""
        return any(plugin_source.PLACEHOLDER in line for line in self.packages)

    def requirements(self, cell) -> tuple[str, ...]:
        """The requirement lines it adds to ``cell``'s env (``{dist}``: the cell's pin;
        ``{plugin-wheel}`` is left for the measure stage, which builds the wheel)."""
        pins = cell.pin_map

        def pin(match: re.Match) -> str:
            keep = match.group(0) == plugin_source.PLACEHOLDER
            return match.group(0) if keep else pins.get(match.group(1), "")

        return tuple(re.sub(r"\{([\w.-]+)\}", pin, line) for line in self.packages)

    def limit(self, timeout: float) -> float:
        """The time limit per pytest process: the profile's, or this variant's if shorter."""
        return min(timeout, self.timeout) if self.timeout else timeout

    def digest(self) -> str:
        """What a result depends on beyond the probe: this entry and the variant's files."""
        hasher = hashlib.sha256(repr(dataclasses.replace(self, folder=Path())).encode())
        if self.installs_plugin:  # the plugin's wheel from this checkout: its sources count
            hasher.update(plugin_source.digest().encode())
        if self.folder.is_dir():
            for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
                hasher.update(
                    str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes()
                )
        return hasher.hexdigest()[:16]

    def apply(self, project: Path) -> None:
        """Change the probe copy at ``project`` into this variant."""
        for folder in self.replace:
            shutil.rmtree(project / folder, ignore_errors=True)
        files = self.folder / "files"
        if files.is_dir():
            shutil.copytree(files, project, dirs_exist_ok=True)
        if self.conftest:
            conftest = project / "conftest.py"
            before = conftest.read_text() if conftest.exists() else "import pytest\n"
            conftest.write_text(before + (self.folder / "conftest.py").read_text())
        if self.ini:
            set_ini(project / "pytest.ini", self.ini)
        if self.strip_markers:
            for test in sorted((project / "tests").rglob("*.py")):
                test.write_text(_MARKER.sub("", test.read_text()))


class Attempt(NamedTuple):
    """One of the reported project's attempts: a variant, a scenario, or another plugin."""

    what: str
    variant: str | None = None
    scenario: str | None = None
    plugin: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Catalogue:
    """Every variant by name (file order), and the reported project's attempts in order."""

    variants: dict[str, Variant]
    attempts: tuple[Attempt, ...]

    def get(self, name: str, where: str = "") -> Variant:
        """The variant ``name``; a name that is not in the catalogue stops with exit code 2."""
        if name not in self.variants:
            raise ConfigError(
                f"unknown variant '{name}'{where}; known variants: "
                f"{', '.join(self.variants)} (see {CATALOGUE.name})."
            )
        return self.variants[name]


def set_ini(path: Path, lines: tuple[str, ...]) -> None:
    """Set ``key = value`` lines in the ``[pytest]`` section of ``path``, replacing a key
    that is already there (``addopts`` is extended instead, so options add up)."""
    text = path.read_text() if path.exists() else "[pytest]\n"
    out = text.splitlines()
    for line in lines:
        key = _INI_KEY.match(line).group(1)
        at = next(
            (i for i, old in enumerate(out) if (m := _INI_KEY.match(old)) and m.group(1) == key),
            None,
        )
        if at is None:
            out.append(line)
        elif key == "addopts":
            out[at] += " " + line.split("=", 1)[1].strip()
        else:
            out[at] = line
    path.write_text("\n".join(out) + "\n")


@functools.lru_cache(maxsize=4)
def load(path: Path = CATALOGUE) -> Catalogue:
    """Read and check the catalogue at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read ({exc}); fix it and rerun.") from None
    variants = {
        name: _variant(path, name, entry) for name, entry in (data.get("variant") or {}).items()
    }
    attempts = tuple(
        _attempt(path, i, entry, variants) for i, entry in enumerate(data.get("attempt") or [], 1)
    )
    if BASELINE not in variants:
        raise ConfigError(f"{path.name} has no [variant.{BASELINE}]; add it.")
    return Catalogue(variants=variants, attempts=attempts)


def _variant(path: Path, name: str, entry: dict[str, Any]) -> Variant:
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise ConfigError(
            f"{path.name}: unknown key '{unknown[0]}' in [variant.{name}]; "
            f"known keys: {', '.join(sorted(KEYS))}."
        )
    requires = tuple((k, str(v)) for k, v in (entry.get("requires") or {}).items())
    for key, spec in requires:
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise ConfigError(
                f"{path.name}: requires {key} = {spec!r} in [variant.{name}] "
                'is not a specifier such as ">=0.23".'
            ) from None
    return Variant(
        name=name,
        description=str(entry.get("description", "")),
        folder=path.parent / "variants" / str(entry.get("folder", name)),
        kind=str(entry.get("kind", "shape")),
        size=int(entry.get("size", 0)),
        probes=tuple(entry.get("probes", DEFAULT_PROBES)),
        requires=requires,
        packages=tuple(entry.get("packages", ())),
        ini=tuple(entry.get("ini", ())),
        conftest=bool(entry.get("conftest", False)),
        replace=tuple(entry.get("replace", ())),
        strip_markers=bool(entry.get("strip-markers", False)),
        timeout=float(entry["timeout"]) if "timeout" in entry else None,
    )


def _attempt(
    path: Path, number: int, entry: dict[str, Any], variants: dict[str, Variant]
) -> Attempt:
    unknown = sorted(set(entry) - ATTEMPT_KEYS)
    if unknown or "what" not in entry:
        raise ConfigError(
            f"{path.name}: attempt #{number} needs 'what' and one of 'variant', "
            "'scenario', 'plugin'."
        )
    if entry.get("variant") and entry["variant"] not in variants:
        raise ConfigError(
            f"{path.name}: attempt #{number} names unknown variant '{entry['variant']}'."
        )
    return Attempt(**{k.replace("-", "_"): v for k, v in entry.items()})


def named(name: str) -> Variant:
    """The variant ``name`` of the built-in catalogue (exit code 2 when there is none)."""
    return load().get(name)
